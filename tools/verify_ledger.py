#!/usr/bin/env python3
"""Check a citymatch ledger export, or one inclusion proof, without any of citymatch's code.

Needs Python 3.11+ and one Ed25519 package (``cryptography``). The format is docs/ledger-format.md.

    verify_ledger.py ledger EXPORT.jsonl --public-key HEX [--public-key HEX ...] [--anchors ANCHORS.jsonl]
    verify_ledger.py proof PROOF.json --anchors ANCHORS.jsonl

``ledger`` recomputes every entry's hash, its link to the previous entry, every signature (against the keys
you trust, not the keys the platform lists), exactly one entry per (kind, ref), balanced postings, trade
postings from the trade, every anchor's Merkle root, and the anchors you saved. ``proof`` recomputes one
entry's hash and its Merkle path up to the root you saved for its slot. Exit 0: good; 1: bad, and the first
bad entry (or anchor) is named; 2: bad usage or unreadable input.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS = "0" * 64
ANCHOR = "anchor"
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical(value: Any) -> bytes:
    return _CANONICAL.encode(value).encode("utf-8")


def entry_hash(e: dict[str, Any]) -> str:
    header = canonical([e["chain"], e["seq"], e["kind"], e["ref"], e["slot"], e["prev_hash"]])
    return hashlib.sha256(header + b"\n" + e["body"].encode("utf-8")).hexdigest()


def leaf(h: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(h)).digest()


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root_of(nodes: list[bytes]) -> bytes:
    if not nodes:
        return hashlib.sha256(b"").digest()
    if len(nodes) == 1:
        return nodes[0]
    k = split(len(nodes))
    return node(root_of(nodes[:k]), root_of(nodes[k:]))


def root_from_path(h: str, index: int, size: int, path: list[str]) -> str | None:
    """The root a Merkle path leads to, or None if the path does not fit a tree of ``size`` leaves."""
    def up(i: int, n: int, rest: list[str]) -> bytes | None:
        if n == 1:
            return None if rest else leaf(h)
        if not rest:
            return None
        k, sibling = split(n), bytes.fromhex(rest[-1])
        below = up(i, k, rest[:-1]) if i < k else up(i - k, n - k, rest[:-1])
        if below is None:
            return None
        return node(below, sibling) if i < k else node(sibling, below)

    got = up(index, size, list(path)) if 0 <= index < size else None
    return got.hex() if got is not None else None


def key_id(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:16]


def signature_ok(key: Ed25519PublicKey, digest: str, signature: str) -> bool:
    try:
        key.verify(bytes.fromhex(signature), bytes.fromhex(digest))
        return True
    except (InvalidSignature, ValueError):
        return False


def sen(kwh: Decimal, yen_per_kwh: Decimal) -> int:
    return int((kwh * yen_per_kwh * 100).to_integral_value(rounding=ROUND_HALF_EVEN))


def trade_postings(trade: dict[str, Any], platform_fee: Decimal) -> list[list[Any]]:
    """The postings a trade implies (docs/ledger-format.md, "trade"): zero legs left out."""
    b, s = f"participant:{trade['buyer']}", f"participant:{trade['seller']}"
    kwh = Decimal(trade["kwh"])
    energy, wheeling = sen(kwh, Decimal(trade["price"])), sen(kwh, Decimal(trade["wheeling_fee"]))
    fee, wh = sen(kwh, platform_fee), int(kwh * 1000)
    legs = [[b, "JPY", -energy, "energy"], [s, "JPY", energy, "energy"], [b, "JPY", -wheeling, "wheeling"],
            ["operator:grid", "JPY", wheeling, "wheeling"], [s, "JPY", -fee, "platform_fee"],
            ["operator:platform", "JPY", fee, "platform_fee"], [s, "kWh", -wh, "delivery"],
            [b, "kWh", wh, "delivery"]]
    return [leg for leg in legs if leg[2] != 0]


def content_problem(e: dict[str, Any], body: dict[str, Any], leaves: list[str]) -> str | None:
    """Rules on the body: balanced postings for every kind, trade postings, anchor roots."""
    totals: dict[str, int] = {}
    for _account, commodity, amount, _kind in body.get("postings") or ():
        totals[commodity] = totals.get(commodity, 0) + int(amount)
    if any(totals.values()):
        return f"postings do not balance {totals}"
    if e["kind"] == "trade":
        if body["trade"]["trade_id"] != e["ref"]:
            return "trade body names another trade"
        if body["postings"] != trade_postings(body["trade"], Decimal(body["fees"]["platform_fee_per_kwh"])):
            return "postings do not follow from the trade"
    if e["kind"] == ANCHOR:
        if int(body["entries"]) != len(leaves):
            return f"anchor counts {body['entries']} entries, the slot has {len(leaves)}"
        if root_of([leaf(h) for h in leaves]).hex() != body["merkle_root"]:
            return "anchor's Merkle root does not match the slot's entries"
    return None


@dataclass
class Chain:
    next_seq: int = 1
    head: str = GENESIS
    unsigned_since: int | None = None
    leaves: dict[str, list[str]] = field(default_factory=dict)


def verify_export(lines: list[str], keys: dict[str, Ed25519PublicKey],
                  saved: list[dict[str, Any]]) -> tuple[bool, str]:
    chains: dict[str, Chain] = {}
    seen: set[tuple[str, str]] = set()
    anchors_on_ledger: dict[tuple[str, str, int], str] = {}
    signatures = 0
    for n, line in enumerate(lines, 1):
        e = json.loads(line)
        c = chains.setdefault(e["chain"], Chain())
        where = f"entry chain={e['chain']} seq={e['seq']} (line {n})"
        if e["seq"] != c.next_seq:
            return False, f"BAD {where}: expected seq {c.next_seq}: an entry is missing or out of order"
        if e["prev_hash"] != c.head:
            return False, f"BAD {where}: does not link to the previous entry's hash"
        if entry_hash(e) != e["hash"]:
            return False, f"BAD {where}: content does not match its hash"
        if (e["kind"], e["ref"]) in seen:
            return False, f"BAD {where}: {e['kind']} {e['ref']} is recorded twice"
        try:
            body = json.loads(e["body"])
            problem = content_problem(e, body, c.leaves.get(e["slot"] or "", []))
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            problem = f"malformed body ({type(exc).__name__}: {exc})"
        if problem:
            return False, f"BAD {where}: {problem}"
        if e.get("signature"):
            key = keys.get(e.get("key_id") or "")
            if key is None:
                return False, f"BAD {where}: signed by key {e.get('key_id')!r}, not one you trust"
            if not signature_ok(key, e["hash"], e["signature"]):
                return False, f"BAD {where}: signature does not match the entry hash"
            signatures += 1
            c.unsigned_since = None
        elif c.unsigned_since is None:
            c.unsigned_since = e["seq"]
        seen.add((e["kind"], e["ref"]))
        if e["kind"] == ANCHOR:
            anchors_on_ledger[(e["chain"], e["slot"], int(body["entries"]))] = body["merkle_root"]
        elif e["slot"] is not None:
            c.leaves.setdefault(e["slot"], []).append(e["hash"])
        c.next_seq += 1
        c.head = e["hash"]
    for name, c in chains.items():
        if c.unsigned_since is not None:
            return False, f"BAD entry chain={name} seq={c.unsigned_since}: not covered by any signature"
    for a in saved:
        key = (a.get("chain", "main"), a["slot"], int(a["entries"]))
        leaves = chains.get(key[0], Chain()).leaves.get(key[1], [])
        if len(leaves) < key[2] or root_of([leaf(h) for h in leaves[:key[2]]]).hex() != a["merkle_root"]:
            return False, (f"BAD anchor chain={key[0]} slot={key[1]} entries={key[2]}: the ledger's entries do "
                           f"not give the saved root {a['merkle_root']}")
        if anchors_on_ledger.get(key, a["merkle_root"]) != a["merkle_root"]:
            return False, f"BAD anchor chain={key[0]} slot={key[1]} entries={key[2]}: the ledger's anchor differs"
    return True, (f"OK: {len(lines)} entries, {signatures} signatures, {len(anchors_on_ledger)} anchors on the "
                  f"ledger, {len(saved)} saved anchors matched")


def verify_proof(proof: dict[str, Any], saved: list[dict[str, Any]]) -> tuple[bool, str]:
    e, anchor = proof["entry"], proof["anchor"]
    what = f"{e['kind']} {e['ref']} (chain={e['chain']} seq={e['seq']})"
    if entry_hash(e) != e["hash"]:
        return False, f"BAD {what}: content does not match its hash"
    root = root_from_path(e["hash"], int(proof["index"]), int(proof["size"]), proof["proof"])
    if root is None or root != anchor["merkle_root"] or int(proof["size"]) != int(anchor["entries"]):
        return False, f"BAD {what}: the Merkle path does not lead to the anchor's root"
    if e["slot"] != anchor["slot"]:
        return False, f"BAD {what}: the entry's slot is not the anchor's"
    for a in saved:
        if (a.get("chain", "main"), a["slot"], int(a["entries"])) == (e["chain"], e["slot"], int(proof["size"])):
            if a["merkle_root"] != root:
                return False, f"BAD {what}: the saved anchor for slot {e['slot']} has another root"
            return True, f"OK: {what} is under the saved anchor of slot {e['slot']} ({a['merkle_root']})"
    return False, f"BAD {what}: no saved anchor for slot {e['slot']} with {proof['size']} entries"


def read_jsonl(path: str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    led = sub.add_parser("ledger", help="check a whole export")
    led.add_argument("export")
    led.add_argument("--public-key", action="append", required=True, help="trusted Ed25519 public key (hex)")
    led.add_argument("--anchors", help="anchors you saved (JSON lines)")
    prf = sub.add_parser("proof", help="check one inclusion proof")
    prf.add_argument("proof")
    prf.add_argument("--anchors", required=True, help="anchors you saved (JSON lines)")
    args = parser.parse_args(argv)
    try:
        saved = read_jsonl(args.anchors) if args.anchors else []
        if args.command == "proof":
            with open(args.proof, encoding="utf-8") as f:
                ok, message = verify_proof(json.load(f), saved)
        else:
            raws = [bytes.fromhex(k) for k in args.public_key]
            keys = {key_id(r): Ed25519PublicKey.from_public_bytes(r) for r in raws}
            with open(args.export, encoding="utf-8") as f:
                lines = [line for line in f.read().splitlines() if line.strip()]
            ok, message = verify_export(lines, keys, saved)
    except (OSError, ValueError, KeyError) as exc:
        print(f"verify_ledger: cannot read the input: {exc}", file=sys.stderr)
        return 2
    print(message)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
