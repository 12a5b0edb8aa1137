"""The 11-order example of the pymarket library, cleared by each of our pricing rules.

pymarket (kiedanski/pymarket, MIT) ships this case: six buyers of 1 unit at 6.7, 6.6, 6.5, 6.4, 6.3 and
6.0, and five sellers: 1 unit at 1, 1 at 2, 2 at 3, 2 at 4 and 1 at 6.1. The maximum traded volume is
6 units and the maximum welfare 21.5. Its published statistics for its own mechanisms are kept beside
ours: Huang 66.7 % traded / 41.9 % welfare, MUDA 66.7 % / 79.1 %, P2P 100 % / 100 %.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.market.domain.clearing import clear
from services.market.domain.pricing import PRICING_RULES
from services.market.domain.problem import Rules, make_problem
from services.market.domain.scaling import to_sen, to_wh

BUYS = [("1", "6.7"), ("1", "6.6"), ("1", "6.5"), ("1", "6.4"), ("1", "6.3"), ("1", "6.0")]
SELLS = [("1", "1"), ("1", "2"), ("2", "3"), ("2", "4"), ("1", "6.1")]
MAX_TRADED_WH = 6000
MAX_WELFARE = 21.5 * 1e5  # Wh x sen/kWh
PUBLISHED = {"huang": (0.667, 0.419), "muda": (0.667, 0.791), "p2p": (1.0, 1.0)}


def _problem():
    return make_problem([to_wh(Decimal(q)) for q, _ in SELLS], [to_sen(Decimal(p)) for _, p in SELLS],
                        [to_wh(Decimal(q)) for q, _ in BUYS], [to_sen(Decimal(p)) for _, p in BUYS])


def report() -> dict[str, tuple[float, float, int]]:
    """Per mechanism: traded share, welfare share and budget balance (Wh x sen; 0 = balanced)."""
    rows: dict[str, tuple[float, float, int]] = {}
    for rule in PRICING_RULES:
        c = clear(_problem(), Rules(wheeling_sen=0), rule)
        paid = int((c.trades.wh * (c.price_sen + c.fee_sen)).sum())
        received = int((c.trades.wh * c.price_sen).sum()) + int((c.trades.wh * c.fee_sen).sum())
        rows[rule] = (c.traded_wh / MAX_TRADED_WH, c.surplus / MAX_WELFARE, paid - received)
    return rows


@pytest.mark.parametrize("rule", PRICING_RULES)
def test_every_rule_trades_all_and_reaches_full_welfare_with_balanced_budget(rule):
    """Each of our pricing rules trades 100 % of the tradable volume, reaches 100 % welfare, balances."""
    traded, welfare, balance = report()[rule]
    assert traded == pytest.approx(1.0) and welfare == pytest.approx(1.0) and balance == 0


def test_ours_match_or_beat_pymarkets_published_mechanisms():
    """Our traded and welfare shares are at least those pymarket publishes for Huang, MUDA and P2P."""
    ours = report()
    for traded, welfare in PUBLISHED.values():
        for our_traded, our_welfare, _ in ours.values():
            assert our_traded >= traded and our_welfare >= welfare


def test_prices_of_the_example_are_individually_rational():
    """In the example every buyer pays at most its bid and every seller gets at least its ask."""
    for rule in PRICING_RULES:
        c = clear(_problem(), Rules(wheeling_sen=0), rule)
        assert (c.price_sen >= c.ask_sen).all() and (c.price_sen <= c.value_sen).all()
        assert c.traded_wh == MAX_TRADED_WH
