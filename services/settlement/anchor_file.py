"""The public anchors file: every anchor the ledger holds, appended as one JSON line, never rewritten.

This is the copy of the Merkle roots that leaves the platform (docs/ledger-format.md, section 5): the gateway
serves it read-only and outsiders keep their own copies, so a rewritten and re-signed history no longer matches
what they saved. ``publish`` is idempotent and catches up after a crash: it appends exactly the anchors
whose ``(chain, anchor_seq)`` the file does not hold yet, in chain order.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from services.settlement.domain.chain import canonical_json
from services.settlement.domain.kinds.anchor import NAME as ANCHOR
from services.settlement.domain.kinds.anchor import anchor_ref
from services.settlement.ports import LedgerReadModel

log = logging.getLogger(__name__)


class AnchorFile:
    """Appends the ledger's anchors to ``path`` (JSON lines) as they appear."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def published(self) -> dict[str, int]:
        """Per chain, the highest anchor sequence number already in the file (a torn last line is dropped)."""
        if not self.path.exists():
            return {}
        raw = self.path.read_bytes()
        if raw and not raw.endswith(b"\n"):  # a write cut short by a crash: that line was never published
            keep = raw.rfind(b"\n") + 1
            log.warning("dropping a torn last line of %s", self.path)
            with self.path.open("r+b") as f:
                f.truncate(keep)
            raw = raw[:keep]
        latest: dict[str, int] = {}
        for line in raw.decode("utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                latest[row["chain"]] = max(latest.get(row["chain"], 0), int(row["anchor_seq"]))
        return latest

    def publish(self, ledger: LedgerReadModel) -> int:
        """Append the anchors the file lacks; returns how many lines were written."""
        latest = self.published()
        lines = []
        for anchor in sorted(ledger.anchors(), key=lambda a: (a.chain, a.seq)):
            if anchor.seq <= latest.get(anchor.chain, 0):
                continue
            slot = anchor.slot.isoformat()
            entry = ledger.entry(ANCHOR, anchor_ref(slot, anchor.entries))
            lines.append(canonical_json(self.record(anchor.chain, slot, anchor.entries, anchor.merkle_root,
                                                    anchor.seq, entry.hash if entry else None)))
        if lines:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as f:
                f.write(b"".join(line + b"\n" for line in lines))
                f.flush()
                os.fsync(f.fileno())
        return len(lines)

    @staticmethod
    def record(chain: str, slot: str, entries: int, merkle_root: str, seq: int,
               entry_hash: str | None) -> dict[str, Any]:
        return {"chain": chain, "slot": slot, "entries": entries, "merkle_root": merkle_root,
                "anchor_seq": seq, "anchor_hash": entry_hash}
