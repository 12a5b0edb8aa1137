"""What both adapters of the ``Ledger`` port build on their own ``record`` and ``entry``: trades in, receipts
out, exactly once. Each adapter supplies the storage; the order of operations lives here once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from services.settlement.domain.certificates import decide_retirement
from services.settlement.domain.chain import Draft, Entry
from services.settlement.domain.kinds.retirement import retirement_draft
from services.settlement.domain.kinds.trade import NAME as TRADE
from services.settlement.domain.kinds.trade import certificate_of, trade_draft
from services.settlement.domain.money import FeeSchedule
from services.settlement.domain.postings import TradeFact
from services.settlement.ports import RecordResult, RetirementOutcome, result_for
from shared.contracts.energy import TradeMatched


def fresh_drafts(drafts: Sequence[Draft], known: set[tuple[str, str]]) -> list[Draft]:
    """The drafts whose ``(kind, ref)`` is neither in ``known`` nor earlier in ``drafts`` (``known`` grows)."""
    fresh = []
    for d in drafts:
        if (d.kind, d.ref) not in known:
            known.add((d.kind, d.ref))
            fresh.append(d)
    return fresh


def in_request_order(drafts: Sequence[Draft], entries: Sequence[Entry]) -> list[Entry | None]:
    """For each draft, its new entry, or ``None`` if it was already recorded (or repeated within the batch)."""
    by_key = {(e.kind, e.ref): e for e in entries}
    return [by_key.pop((d.kind, d.ref), None) for d in drafts]


class TradeWrites:
    """Trades through the generic ``record``: one ``trade`` entry per trade id, receipts from the entry.

    Mixed into an adapter that provides ``fees``, ``_now()``, ``record(drafts)`` and ``entry(kind, ref)``.
    """

    fees: FeeSchedule
    _now: Callable[[], datetime]
    record: Callable[[Sequence[Draft]], list[Entry | None]]
    entry: Callable[[str, str], Entry | None]

    def record_trade(self, trade: TradeMatched) -> RecordResult | None:
        """Settle ``trade`` once; ``None`` if it is already on the ledger (nothing is written then)."""
        return self.record_trades([trade])[0]

    def record_trades(self, trades: Sequence[TradeMatched]) -> list[RecordResult | None]:
        """Settle a batch in one append (one signature); ``None`` for each trade already recorded."""
        now = self._now()
        drafts = [trade_draft(TradeFact.from_event(tr), self.fees, now) for tr in trades]
        return [None if e is None else result_for(e) for e in self.record(drafts)]

    def recorded(self, trade: TradeMatched) -> RecordResult:
        """What recording ``trade`` did, read back from the ledger (to repeat receipts on redelivery)."""
        entry = self.entry(TRADE, trade.trade_id)
        if entry is None:
            raise LookupError(f"trade {trade.trade_id} is not on the ledger")
        return result_for(entry)


def retire(cert_id: str, participant: str, target: str, now: datetime, *, issued: Entry | None,
           retired_target: str | None, existing: Callable[[], Entry | None],
           append: Callable[[Draft], Entry]) -> RetirementOutcome:
    """Decide a retirement by the domain's rule and append it if accepted (the caller holds the write lock).

    ``issued`` is the trade entry that issued the certificate (``None``: no such certificate),
    ``retired_target`` what it is already retired against; ``existing`` reads the retirement entry back for
    a repeated request, ``append`` writes the new one.
    """
    cert = None if issued is None else certificate_of(issued)
    decision = decide_retirement(cert_id, cert, retired_target, participant, target)
    if decision.repeat:
        return RetirementOutcome(cert_id, participant, target, decision, existing())
    if decision.retirement is None or cert is None:
        return RetirementOutcome(cert_id, participant, target, decision)
    entry = append(retirement_draft(decision.retirement, cert.slot, now))
    return RetirementOutcome(cert_id, participant, target, decision, entry)
