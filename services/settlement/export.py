"""The ledger's export format: one JSON object per entry per line, in chain order (docs/ledger-format.md).

``body`` is the entry's body exactly as hashed (a string holding canonical JSON), so an outside verifier
recomputes every hash from the export without re-serialising anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from services.settlement.domain.chain import Entry, canonical_json

EXPORT_FIELDS = ("chain", "seq", "kind", "ref", "slot", "body", "prev_hash", "hash", "signature", "key_id")


def export_record(entry: Entry) -> dict[str, Any]:
    return {"chain": entry.chain, "seq": entry.seq, "kind": entry.kind, "ref": entry.ref, "slot": entry.slot,
            "body": entry.body_json, "prev_hash": entry.prev_hash, "hash": entry.hash,
            "signature": entry.signature, "key_id": entry.key_id}


def export_lines(entries: Iterable[Entry]) -> Iterator[str]:
    for entry in entries:
        yield canonical_json(export_record(entry)).decode()


def entries_from_export(lines: Iterable[str]) -> list[Entry]:
    """Entries read back from export lines (what the built-in verify checks when handed an export)."""
    out = []
    for line in lines:
        r = json.loads(line)
        out.append(Entry(r["chain"], int(r["seq"]), r["kind"], r["ref"], r["slot"], r["body"], r["prev_hash"],
                         r["hash"], r["signature"], r["key_id"]))
    return out
