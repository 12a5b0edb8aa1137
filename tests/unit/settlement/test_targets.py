"""Renewable targets: on-site (A), then community (B), then certificates (C)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from services.settlement.domain.targets import plan_target, settle_target
from shared.contracts.energy import TradeMatched

SLOT = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def test_plan_takes_on_site_then_community_then_certificates():
    """A 50 % target on 10 kWh takes 3 kWh on site, 1 kWh from the community and 1 kWh of certificates."""
    plan = plan_target(D("10"), D("0.5"), a_available_kwh=D("3"), b_available_kwh=D("1"))
    assert (plan.from_a_kwh, plan.from_b_kwh, plan.certificates_kwh) == (D("3"), D("1"), D("1"))
    assert plan.met and plan.local_share == D("0.4")


def test_plan_never_buys_more_than_the_target():
    """Plenty of local renewable energy covers exactly the target, with no certificates."""
    plan = plan_target(D("10"), D("0.3"), D("100"), D("100"))
    assert (plan.from_a_kwh, plan.from_b_kwh, plan.certificates_kwh) == (D("3.000"), D("0"), D("0"))


def test_plan_rejects_a_share_above_one():
    """A target share outside 0..1 is refused."""
    with pytest.raises(ValueError, match="within"):
        plan_target(D("1"), D("1.5"), D("0"), D("0"))


def _trade(buyer: str, tier: str, kwh: str, renewable: bool) -> TradeMatched:
    return TradeMatched(trade_id=f"t{tier}{kwh}", slot=SLOT, seller="pv", buyer=buyer, kwh=D(kwh), price=D("15"),
                        tier=tier, renewable=renewable)


def test_settle_counts_renewable_purchases_by_tier():
    """After the fact, renewable tier A and B purchases count toward the target and certificates fill the gap."""
    trades = [_trade("me", "A", "1", True), _trade("me", "B", "2", True), _trade("me", "B", "5", False),
              _trade("other", "A", "4", True)]
    plan = settle_target("me", trades, D("10"), D("0.6"))
    assert (plan.from_a_kwh, plan.from_b_kwh, plan.certificates_kwh) == (D("1"), D("2"), D("3.000"))
