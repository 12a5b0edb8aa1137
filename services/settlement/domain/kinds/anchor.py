"""``anchor``: the Merkle root over one slot's anchored entries (every kind but anchors), as published
on ``ledger.anchors``.

Body: ``{"slot", "merkle_root", "entries", "at"}``; ref = ``"<slot>#<entries>"`` (a late trade or a
retirement makes a new anchor with more entries); slot = the slot. No postings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from services.settlement.domain.chain import Draft, Entry
from services.settlement.domain.kinds.base import ChainState, EntryKind, ProjectedRow
from services.settlement.domain.merkle import merkle_root

NAME = "anchor"


def anchor_ref(slot: str, entries: int) -> str:
    return f"{slot}#{entries}"


def anchor_draft(slot: str, root: str, entries: int, at: datetime) -> Draft:
    return Draft(NAME, anchor_ref(slot, entries), slot,
                 {"slot": slot, "merkle_root": root, "entries": entries, "at": at.isoformat()})


class AnchorKind(EntryKind):
    name: ClassVar[str] = NAME
    anchored: ClassVar[bool] = False

    def check(self, entry: Entry, body: dict[str, Any], state: ChainState) -> str | None:
        leaves = state.leaves.get((entry.chain, entry.slot or ""), [])
        if body["slot"] != entry.slot or entry.ref != anchor_ref(body["slot"], int(body["entries"])):
            return "anchor body does not match the entry's reference or slot"
        if int(body["entries"]) != len(leaves):
            return f"anchor counts {body['entries']} entries, the slot has {len(leaves)}"
        if merkle_root(leaves) != body["merkle_root"]:
            return "anchor's Merkle root does not match the slot's entries"
        return None

    def rows(self, entry: Entry) -> list[ProjectedRow]:
        body = entry.body
        return [ProjectedRow("ledger_anchors", {
            "chain": entry.chain, "slot": datetime.fromisoformat(body["slot"]), "entries": int(body["entries"]),
            "merkle_root": body["merkle_root"], "seq": entry.seq})]
