"""Reconcile names a self-trade: the same party on both sides of a trade on the ledger."""

from services.settlement.store import open_ledger
from shared.contracts.energy import TradeMatched


def test_reconcile_flags_a_trade_with_one_party_on_both_sides():
    """A trade recorded with seller == buyer (as the grid once traded with itself) makes reconcile fail."""
    ledger = open_ledger("sqlite://")
    try:
        ledger.record_trade(TradeMatched(trade_id="t-ok", slot="2026-11-28T13:00:00+09:00", seller="pv-1",
                                         buyer="home-1", kwh="1.000", price="15.00"))
        assert ledger.reconcile().ok
        ledger.record_trade(TradeMatched(trade_id="t-self", slot="2026-11-28T13:30:00+09:00", seller="grid",
                                         buyer="grid", kwh="2.000", price="26.20", tier="grid"))
        report = ledger.reconcile()
        assert not report.ok
        assert any("t-self" in p and "grid as both seller and buyer" in p for p in report.problems)
    finally:
        ledger.close()
