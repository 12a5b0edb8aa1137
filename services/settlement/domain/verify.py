"""Hold a ledger to account: recompute every hash, link, signature, posting and anchor from the entries alone.

``verify`` is pure: give it the entries (in chain order) and the public key(s) you trust. It stops at the
first entry that does not check out and names it. When the hash chain was rewritten consistently from
some entry on, the first thing to break is the next signature; the report then also says from which
entry on the chain can no longer be trusted (just after the last good signature).

What is checked for every entry, whatever its kind: sequence, link, hash, the rules of its kind (from the
registry in ``kinds/registry.py``), a ``(kind, ref)`` seen only once, postings that balance per commodity,
and the signature if it carries one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.settlement.domain.chain import GENESIS_HASH, Entry
from services.settlement.domain.kinds.anchor import NAME as ANCHOR
from services.settlement.domain.kinds.base import ChainState
from services.settlement.domain.kinds.registry import KINDS, KindRegistry
from services.settlement.domain.merkle import merkle_root
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


def _content_problem(entry: Entry, body: dict[str, Any], state: ChainState, kinds: KindRegistry) -> str | None:
    """The entry's kind's own rules, then what every entry must satisfy."""
    kind = kinds.get(entry.kind)
    if kind is None:
        return f"unknown entry kind {entry.kind!r}"
    problem = kind.check(entry, body, state)
    if problem is None and (entry.kind, entry.ref) in state.seen:
        problem = f"{entry.kind} {entry.ref} is recorded twice"
    if problem is None and (unbalanced := _imbalance(body.get("postings"))):
        problem = f"postings do not balance {unbalanced}"
    return problem


def _imbalance(rows: Iterable[list[Any]] | None) -> dict[str, int]:
    """Per commodity, what the body's posting rows fail to balance by (the format keeps them in
    ``body["postings"]`` for every kind); straight from the JSON rows, which is most of verify's speed."""
    totals: dict[str, int] = {}
    for row in rows or ():
        totals[row[1]] = totals.get(row[1], 0) + int(row[2])
    return {c: v for c, v in totals.items() if v}


def verify(entries: Iterable[Entry], public_keys: PublicKeys, *, every_signature: bool = True,
           kinds: KindRegistry = KINDS) -> VerifyReport:
    """Recompute the whole ledger; ``ok`` only if every entry and every chain tip checks out.

    ``every_signature=False`` checks hashes, links, contents and anchors of every entry but only the last
    signature of each chain. Because the tip's hash commits to all entries before it, that proves the
    same about the ledger as it stands, skipping the history of intermediate signatures — which is most
    of the work when every append signed a single entry.
    """
    keys = _key_map(public_keys)
    tips: dict[str, tuple[int, Entry]] = {}  # chain -> last signed entry, when signatures are deferred
    chains: dict[str, _Chain] = {}
    state = ChainState()
    anchored = set(kinds.anchored())
    n = signatures = anchors = 0

    def report(bad: BadEntry | None) -> VerifyReport:
        return VerifyReport(bad is None, n, signatures, anchors, bad, {c: s.head for c, s in chains.items()})

    for position, entry in enumerate(entries):
        chain = chains.get(entry.chain) or chains.setdefault(entry.chain, _Chain())
        problem: str | None = None
        suspect: int | None = None
        body: dict[str, Any] = {}
        if entry.seq != chain.next_seq:
            problem = f"expected seq {chain.next_seq} here: an entry is missing or out of order"
        elif entry.prev_hash != chain.head:
            problem = "does not link to its predecessor's hash"
        elif entry.recomputed_hash() != entry.hash:
            problem = "content does not match its hash"
        else:
            try:
                body = _parse(entry.body_json)  # not entry.body: caching every parsed body costs GC time
                problem = _content_problem(entry, body, state, kinds)
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
        kinds[entry.kind].apply(entry, body, state)
        state.seen.add((entry.kind, entry.ref))
        if entry.kind in anchored and entry.slot is not None:
            state.leaves.setdefault((entry.chain, entry.slot or ""), []).append(entry.hash)
        elif entry.kind == ANCHOR:
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


def anchor_mismatches(entries: Iterable[Entry], published: Iterable[PublishedAnchor],
                      kinds: KindRegistry = KINDS) -> list[str]:
    """Published anchors the ledger no longer matches.

    Signatures stop outsiders from rewriting the ledger; anchors held outside it also stop the key
    holder: a rewritten (and re-signed) history cannot reproduce the Merkle roots already published.
    """
    anchored = set(kinds.anchored())
    leaves: dict[tuple[str, str], list[str]] = {}
    for entry in entries:
        if entry.kind in anchored and entry.slot is not None:
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
