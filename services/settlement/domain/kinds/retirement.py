"""``retirement``: a renewable certificate retired by its owner against one target, once.

Body: ``{"cert_id", "participant", "target", "wh", "at"}``; ref = certificate id (so ``(kind, ref)`` makes
a second retirement of one certificate impossible); slot = the certificate's slot. No postings. Anchored
with its slot, so the retirement (and its target) is provable to outsiders like the trade that issued the
certificate. The rules (only the owner, only once, the certificate's whole Wh) live in
``certificates.decide_retirement`` and are checked again here on every verify.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from services.settlement.domain.certificates import Retirement, retirement_problem
from services.settlement.domain.chain import Draft, Entry
from services.settlement.domain.kinds.base import ChainState, EntryKind, ProjectedRow

NAME = "retirement"


def retirement_draft(retirement: Retirement, slot: str, at: datetime) -> Draft:
    return Draft(NAME, retirement.cert_id, slot, {**retirement.to_json(), "at": at.isoformat()})


class RetirementKind(EntryKind):
    name: ClassVar[str] = NAME

    def check(self, entry: Entry, body: dict[str, Any], state: ChainState) -> str | None:
        cert = state.certificates.get(entry.ref)
        if body["cert_id"] != entry.ref:
            return "retirement body does not match the entry's reference"
        problem = retirement_problem(cert, entry.ref in state.retired, body["participant"])
        if problem is None and cert is not None and int(body["wh"]) != cert.wh:
            problem = "retired Wh differ from the certificate"
        if problem is None and not isinstance(body["target"], str):
            problem = "retirement target is not a string"
        return problem

    def parties(self, body: Mapping[str, Any]) -> frozenset[str]:
        return frozenset({body["participant"]})

    def apply(self, entry: Entry, body: dict[str, Any], state: ChainState) -> None:
        state.retired[entry.ref] = body["target"]

    def rows(self, entry: Entry) -> list[ProjectedRow]:
        """Marks the certificate's row retired (seq and target)."""
        return [ProjectedRow("ledger_certificates", {"cert_id": entry.ref, "retired_seq": entry.seq,
                                                     "retired_target": entry.body["target"]}, key=("cert_id",))]
