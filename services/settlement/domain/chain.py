"""The append-only hash chain: each entry commits to its predecessor, and each append signs the new head.

An entry's hash is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of its header — chain,
sequence number, kind, reference, slot and the previous entry's hash — a newline, and the canonical JSON
of its body. The body is serialised once, when the entry is made, and those exact bytes are stored and
hashed ("hash the bytes, not the object"), so a verifier never has to re-serialise. Changing, dropping or
reordering any entry changes every later hash.

Signing every entry would cost an Ed25519 operation per entry on write and (three times dearer) on
verify. Instead each append — one trade or a batch of them, one database transaction — signs only the
head it leaves behind. Because the head commits to everything before it, a signature on entry *n*
vouches for entries 1..*n*; the verifier demands that the last entry of every chain is signed, so no
unsigned tail can be slipped in behind the service's back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from services.settlement.domain.signing import Signer

GENESIS_HASH = "0" * 64


_json_string = json.encoder.encode_basestring  # how the canonical encoder writes a str (ensure_ascii=False)
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(value: Any) -> bytes:
    """The one serialisation that is hashed: sorted keys, no whitespace, UTF-8, no NaN."""
    return _CANONICAL.encode(value).encode()


def header_json(chain: str, seq: int, kind: str, ref: str, slot: str | None, prev_hash: str) -> str:
    """``canonical_json([chain, seq, kind, ref, slot, prev_hash])``, spelled out because it runs per entry."""
    s = _json_string
    return f"[{s(chain)},{int(seq)},{s(kind)},{s(ref)},{'null' if slot is None else s(slot)},{s(prev_hash)}]"


def entry_hash(chain: str, seq: int, kind: str, ref: str, slot: str | None, body_json: str,
               prev_hash: str) -> str:
    header = header_json(chain, seq, kind, ref, slot, prev_hash)
    return hashlib.sha256(f"{header}\n{body_json}".encode()).hexdigest()


@dataclass(frozen=True)
class Draft:
    """What the ledger wants to append, before it has a place in the chain."""

    kind: str
    ref: str
    slot: str | None
    body: dict[str, Any]


@dataclass(frozen=True)
class Entry:
    """One immutable ledger entry as stored and as verified."""

    chain: str
    seq: int
    kind: str
    ref: str
    slot: str | None
    body_json: str  # canonical JSON of the body, exactly as hashed and stored
    prev_hash: str
    hash: str
    signature: str | None = None
    key_id: str | None = None

    @cached_property
    def body(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body_json)
        return parsed

    def with_parsed_body(self, body: dict[str, Any]) -> Entry:
        """Remember the body this entry was serialised from, sparing a JSON parse later."""
        self.__dict__["body"] = body
        return self

    def recomputed_hash(self) -> str:
        return entry_hash(self.chain, self.seq, self.kind, self.ref, self.slot, self.body_json, self.prev_hash)


@dataclass(frozen=True)
class ChainHead:
    chain: str
    seq: int = 0
    hash: str = GENESIS_HASH


def append(head: ChainHead, drafts: Sequence[Draft], signer: Signer) -> tuple[list[Entry], ChainHead]:
    """Place ``drafts`` after ``head``; the last new entry carries the signature over the new head."""
    entries: list[Entry] = []
    seq, prev = head.seq, head.hash
    for draft in drafts:
        seq += 1
        body_json = canonical_json(draft.body).decode()
        digest = entry_hash(head.chain, seq, draft.kind, draft.ref, draft.slot, body_json, prev)
        entries.append(Entry(head.chain, seq, draft.kind, draft.ref, draft.slot, body_json, prev, digest)
                       .with_parsed_body(draft.body))
        prev = digest
    if entries:
        last = entries[-1]
        entries[-1] = replace(last, signature=signer.sign(prev), key_id=signer.key_id).with_parsed_body(last.body)
    return entries, ChainHead(head.chain, seq, prev)
