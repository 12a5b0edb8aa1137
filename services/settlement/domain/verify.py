"""Hold a ledger to account: recompute every hash, link, signature, posting and anchor from the entries alone.

``verify`` is pure: give it the entries (in chain order) and the public key(s) you trust. It stops at the
first entry that does not check out and names it. When the hash chain was rewritten consistently from
some entry on, the first thing to break is the next signature; the report then also says from which
entry on the chain can no longer be trusted (just after the last good signature).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.settlement.domain.certificates import Certificate, issue, retirement_problem
from services.settlement.domain.chain import ANCHOR, GENESIS_HASH, RETIREMENT, TRADE, Entry
from services.settlement.domain.merkle import merkle_root
from services.settlement.domain.money import kwh_to_wh
from services.settlement.domain.postings import trade_legs
from services.settlement.domain.signing import key_id, load_public_key, signature_ok

_DECODER = json.JSONDecoder()


def _parse(text: str) -> dict[str, Any]:
    body, end = _DECODER.raw_decode(text)
    if end != len(text) or not isinstance(body, dict):
        raise ValueError("body is not one JSON object")
    return body


PublicKeys = Ed25519PublicKey | bytes | str | Mapping[str, Ed25519PublicKey] | Iterable[Ed25519PublicKey]


@dataclass(frozen=True)
class BadEntry:
    position: int  # index in the sequence handed to verify
    chain: str
    seq: int
    reason: str
    suspect_from: int | None = None  # first seq no longer vouched for by a good signature


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    entries: int
    signatures: int
    anchors: int
    first_bad: BadEntry | None = None
    heads: dict[str, str] = field(default_factory=dict)  # chain -> hash of its last good entry

    def summary(self) -> str:
        if self.ok:
            return (f"ledger OK: {self.entries} entries, {self.signatures} signatures, "
                    f"{self.anchors} anchors checked")
        bad = self.first_bad
        assert bad is not None
        extra = f" (entries from seq {bad.suspect_from} on are suspect)" if bad.suspect_from else ""
        return f"ledger BROKEN at chain {bad.chain!r} seq {bad.seq}: {bad.reason}{extra}"


def _key_map(public_keys: PublicKeys) -> dict[str, Ed25519PublicKey]:
    if isinstance(public_keys, Mapping):
        return {k: load_public_key(v) for k, v in public_keys.items()}
    if isinstance(public_keys, Ed25519PublicKey | bytes | str):
        keys = [load_public_key(public_keys)]
    else:
        keys = [load_public_key(k) for k in public_keys]
    return {key_id(k): k for k in keys}


@dataclass
class _Chain:
    next_seq: int = 1
    head: str = GENESIS_HASH
    last_signed_seq: int = 0
    first_unsigned: tuple[int, int] | None = None  # (position, seq) of the oldest entry awaiting a signature
    leaves: dict[str, list[str]] = field(default_factory=dict)  # slot -> trade entry hashes


def _check_trade(entry: Entry, body: dict[str, Any], trades: set[str]) -> tuple[str | None, Certificate | None]:
    """A trade entry must restate its trade, be the trade's only entry, and carry exactly the postings
    and certificate the rules derive from the trade; returns the problem and the certificate issued."""
    trade = body["trade"]
    if trade["trade_id"] != entry.ref or trade["slot"] != entry.slot:
        return "trade body does not match the entry's reference or slot", None
    if entry.ref in trades:
        return f"trade {entry.ref} is recorded twice", None
    kwh = Decimal(trade["kwh"])
    legs = trade_legs(trade["buyer"], trade["seller"], kwh, Decimal(trade["price"]),
                      Decimal(trade["wheeling_fee"]), Decimal(body["fees"]["platform_fee_per_kwh"]))
    if legs != body["postings"]:
        return "postings do not follow from the trade and its fees", None
    cert = issue(entry.ref, entry.slot or "", trade["seller"], trade["seller_site"], kwh_to_wh(kwh),
                 trade["buyer"]) if trade["renewable"] is True else None
    if body["certificate"] != (cert.to_json() if cert else None):
        return "certificate does not follow from the trade", None
    return None, cert


def _check_retirement(entry: Entry, body: dict[str, Any], certs: dict[str, Certificate],
                      retired: set[str]) -> str | None:
    cert = certs.get(entry.ref)
    problem = retirement_problem(cert, entry.ref in retired, body["participant"])
    if problem is None and cert is not None and int(body["wh"]) != cert.wh:
        problem = "retired Wh differ from the certificate"
    return problem


def _check_anchor(entry: Entry, body: dict[str, Any], leaves: list[str]) -> str | None:
    if int(body["entries"]) != len(leaves):
        return f"anchor counts {body['entries']} entries, the slot has {len(leaves)}"
    if merkle_root(leaves) != body["merkle_root"]:
        return "anchor's Merkle root does not match the slot's entries"
    return None


def verify(entries: Iterable[Entry], public_keys: PublicKeys, *, every_signature: bool = True) -> VerifyReport:
    """Recompute the whole ledger; ``ok`` only if every entry and every chain tip checks out.

    ``every_signature=False`` checks hashes, links, contents and anchors of every entry but only the last
    signature of each chain. Because the tip's hash commits to all entries before it, that proves the
    same about the ledger as it stands, skipping the history of intermediate signatures — which is most
    of the work when every append signed a single entry.
    """
    keys = _key_map(public_keys)
    tips: dict[str, tuple[int, Entry]] = {}  # chain -> last signed entry, when signatures are deferred
    chains: dict[str, _Chain] = {}
    trades: set[str] = set()
    certs: dict[str, Certificate] = {}
    retired: set[str] = set()
    n = signatures = anchors = 0

    def report(bad: BadEntry | None) -> VerifyReport:
        return VerifyReport(bad is None, n, signatures, anchors, bad, {c: s.head for c, s in chains.items()})

    for position, entry in enumerate(entries):
        chain = chains.get(entry.chain) or chains.setdefault(entry.chain, _Chain())
        problem: str | None = None
        suspect: int | None = None
        if entry.seq != chain.next_seq:
            problem = f"expected seq {chain.next_seq} here: an entry is missing or out of order"
        elif entry.prev_hash != chain.head:
            problem = "does not link to its predecessor's hash"
        elif entry.recomputed_hash() != entry.hash:
            problem = "content does not match its hash"
        else:
            try:
                body = _parse(entry.body_json)  # not entry.body: caching every parsed body costs GC time
                cert = None
                if entry.kind == TRADE:
                    problem, cert = _check_trade(entry, body, trades)
                elif entry.kind == RETIREMENT:
                    problem = _check_retirement(entry, body, certs, retired)
                elif entry.kind == ANCHOR:
                    problem = _check_anchor(entry, body, chain.leaves.get(entry.slot or "", []))
                else:
                    problem = f"unknown entry kind {entry.kind!r}"
            except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
                problem = f"malformed body ({type(exc).__name__}: {exc})"
        if problem is None and entry.signature is not None and every_signature:
            key = keys.get(entry.key_id or "")
            if key is None:
                problem, suspect = f"signed by untrusted key {entry.key_id!r}", chain.last_signed_seq + 1
            elif not signature_ok(key, entry.hash, entry.signature):
                problem, suspect = "signature does not match the entry hash", chain.last_signed_seq + 1
        if problem is not None:
            return report(BadEntry(position, entry.chain, entry.seq, problem, suspect))

        if entry.signature is not None:
            if every_signature:
                signatures += 1
            else:
                tips[entry.chain] = (position, entry)
            chain.last_signed_seq = entry.seq
            chain.first_unsigned = None
        elif chain.first_unsigned is None:
            chain.first_unsigned = (position, entry.seq)
        if entry.kind == TRADE:
            trades.add(entry.ref)
            chain.leaves.setdefault(entry.slot or "", []).append(entry.hash)
            if cert is not None:
                certs[cert.cert_id] = cert
        elif entry.kind == RETIREMENT:
            retired.add(entry.ref)
        else:
            anchors += 1
        chain.next_seq += 1
        chain.head = entry.hash
        n += 1

    for name, (position, tip) in tips.items():
        key = keys.get(tip.key_id or "")
        if key is None or not signature_ok(key, tip.hash, tip.signature or ""):
            reason = "signature does not match" if key else f"signed by untrusted key {tip.key_id!r}"
            return report(BadEntry(position, name, tip.seq, f"{reason} (chain tip)", 1))
        signatures += 1
    for name, chain in chains.items():
        if chain.first_unsigned is not None:
            position, seq = chain.first_unsigned
            return report(BadEntry(position, name, seq, "not covered by any signature (unsigned chain tip)",
                                   seq))
    return report(None)


@dataclass(frozen=True)
class PublishedAnchor:
    """An anchor as an outsider received it (``LedgerAnchor`` on ``ledger.anchors``), per chain."""

    slot: str
    merkle_root: str
    entries: int
    chain: str = "main"


def anchor_mismatches(entries: Iterable[Entry], published: Iterable[PublishedAnchor]) -> list[str]:
    """Published anchors the ledger no longer matches.

    Signatures stop outsiders from rewriting the ledger; anchors held outside it also stop the key
    holder: a rewritten (and re-signed) history cannot reproduce the Merkle roots already published.
    """
    leaves: dict[tuple[str, str], list[str]] = {}
    for entry in entries:
        if entry.kind == TRADE:
            leaves.setdefault((entry.chain, entry.slot or ""), []).append(entry.hash)
    problems = []
    for anchor in published:
        slot_leaves = leaves.get((anchor.chain, anchor.slot), [])
        if len(slot_leaves) < anchor.entries:
            problems.append(f"slot {anchor.slot}: anchor covers {anchor.entries} entries, ledger has "
                            f"{len(slot_leaves)}")
        elif merkle_root(slot_leaves[:anchor.entries]) != anchor.merkle_root:
            problems.append(f"slot {anchor.slot}: ledger's first {anchor.entries} entries do not match the "
                            f"published root {anchor.merkle_root[:16]}…")
    return problems
