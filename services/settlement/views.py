"""Who may see what: read-only views of the ledger for the gateway.

A participant's view answers only about that participant (their trades, statement, balance,
certificates, proofs); the operator's view answers only in aggregates and audits. Neither can write:
only the settlement service appends to the ledger. At the database, give the gateway a role with
``SELECT`` on the ``ledger_*`` tables and nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.settlement.domain.reconcile import ReconcileReport
from services.settlement.domain.statement import Statement
from services.settlement.domain.verify import VerifyReport
from services.settlement.store import Balance, Ledger, open_ledger


@dataclass(frozen=True)
class ParticipantView:
    _ledger: Ledger
    participant: str

    def trades(self) -> list[dict[str, Any]]:
        return self._ledger.trades_for(self.participant)

    def statement(self, start: datetime | None = None, end: datetime | None = None) -> Statement:
        return self._ledger.statement(self.participant, start, end)

    def balance(self) -> Balance:
        return self._ledger.balance(self.participant)

    def certificates(self) -> list[dict[str, Any]]:
        return self._ledger.certificates(self.participant)

    def renewable_progress(self) -> dict[str, str]:
        return self._ledger.renewable_progress(self.participant)

    def inclusion_proof(self, trade_id: str) -> dict[str, Any]:
        return self._ledger.inclusion_proof(trade_id, self.participant)


@dataclass(frozen=True)
class OperatorView:
    _ledger: Ledger

    def slot_totals(self) -> list[dict[str, Any]]:
        return self._ledger.slot_totals()

    def trade_count(self) -> int:
        return self._ledger.trade_count()

    def anchors(self) -> list[dict[str, Any]]:
        return self._ledger.anchors()

    def verify(self) -> VerifyReport:
        return self._ledger.verify()

    def reconcile(self) -> ReconcileReport:
        return self._ledger.reconcile()


class LedgerReader:
    """The gateway's handle on the ledger: views, never writes."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def participant(self, participant: str) -> ParticipantView:
        return ParticipantView(self._ledger, participant)

    def operator(self) -> OperatorView:
        return OperatorView(self._ledger)

    def close(self) -> None:
        self._ledger.close()


def open_reader(url: str) -> LedgerReader:
    return LedgerReader(open_ledger(url))
