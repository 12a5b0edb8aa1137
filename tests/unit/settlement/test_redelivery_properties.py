"""Whatever order and however often trades are delivered, the ledger settles each exactly once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.settlement.domain.postings import JPY, KWH
from services.settlement.store import open_ledger

deliveries = st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=40)
batch_sizes = st.integers(min_value=1, max_value=7)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=deliveries, batch=batch_sizes)
def test_any_delivery_order_settles_each_trade_once(trade, order: list[int], batch: int) -> None:
    """Redelivered, reordered, batched trades: one entry per trade, books balance, energy conserved."""
    ledger = open_ledger("sqlite://", bytes(range(32)))
    slot = trade(0).slot
    trades = {
        n: trade(n, buyer=f"b{n % 3}", seller=f"s{n % 2}", kwh=Decimal(n) / 4,
                 slot=slot + timedelta(minutes=30 * (n % 3)), renewable=n % 2 == 0)
        for n in set(order)
    }
    for i in range(0, len(order), batch):
        ledger.record_trades([trades[n] for n in order[i:i + batch]])
    assert ledger.trade_count() == len(trades)
    report = ledger.reconcile()
    assert report.ok, report.problems
    for commodity in (JPY, KWH):
        assert sum(c.get(commodity, 0) for c in report.account_totals.values()) == 0
    assert ledger.verify().ok
    ledger.close()
