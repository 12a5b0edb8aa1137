"""A trade becomes balanced postings; invariants hold over random trade streams."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from services.settlement.domain.chain import ChainHead, append
from services.settlement.domain.entries import trade_draft
from services.settlement.domain.money import FeeSchedule
from services.settlement.domain.postings import (
    GRID_OPERATOR,
    JPY,
    KWH,
    PLATFORM,
    TradeFact,
    imbalance,
    net_for,
    participant_account,
    trade_postings,
)
from services.settlement.domain.reconcile import reconcile
from services.settlement.domain.signing import Signer

T0 = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
SIGNER = Signer.from_bytes(bytes(range(32)))


def fact(**kw) -> TradeFact:
    base = dict(trade_id="t1", slot=T0, seller="s", buyer="b", kwh=Decimal("1.500"), price=Decimal("25.33"),
                tier="B", wheeling_fee=Decimal("3.10"), renewable=False)
    base.update(kw)
    return TradeFact(**base)


def test_buyer_pays_energy_and_wheeling_seller_pays_platform_fee() -> None:
    """Who pays what: buyer energy+wheeling, grid operator the wheeling fee, platform its fee."""
    legs = trade_postings(fact(), FeeSchedule(Decimal("0.20")))
    assert net_for(legs, participant_account("b")) == -(3800 + 465)
    assert net_for(legs, participant_account("s")) == 3800 - 30
    assert net_for(legs, GRID_OPERATOR) == 465
    assert net_for(legs, PLATFORM) == 30
    assert net_for(legs, participant_account("b"), KWH) == 1500
    assert imbalance(legs) == {}


def test_tier_a_trade_has_no_wheeling_leg() -> None:
    """An on-site trade without a wheeling fee posts no zero legs to the grid operator."""
    legs = trade_postings(fact(tier="A", wheeling_fee=Decimal("0")), FeeSchedule())
    assert all(p.account != GRID_OPERATOR for p in legs)
    assert all(p.amount != 0 for p in legs)


kwh = st.integers(min_value=1, max_value=500_000).map(lambda wh: Decimal(wh) / 1000)
yen = st.integers(min_value=0, max_value=100_000).map(lambda sen: Decimal(sen) / 100)
people = st.sampled_from(["a", "b", "c", "d", "e"])
trades = st.lists(
    st.tuples(people, people, kwh, yen, yen, st.booleans(), st.integers(min_value=0, max_value=5))
    .filter(lambda t: t[0] != t[1]),  # a self-trade is refused by the market and flagged by reconcile
    min_size=1, max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(trades, yen)
def test_random_trade_streams_balance_and_conserve_energy(stream, platform_fee) -> None:
    """Over any trade stream: every entry balances per commodity, kWh sold = bought per slot, all accounts net 0."""
    fees = FeeSchedule(platform_fee)
    drafts = [
        trade_draft(fact(trade_id=f"t{i}", seller=s, buyer=b, kwh=q, price=p, wheeling_fee=w, renewable=g,
                         slot=T0 + timedelta(minutes=30 * k)), fees, T0)
        for i, (s, b, q, p, w, g, k) in enumerate(stream)
    ]
    entries, _ = append(ChainHead("main"), drafts, SIGNER)
    report = reconcile(entries)
    assert report.ok, report.problems
    for commodity in (JPY, KWH):
        assert sum(c.get(commodity, 0) for c in report.account_totals.values()) == 0
    sold = sum(q for _, _, q, *_ in stream)
    assert Decimal(report.kwh) == sold
