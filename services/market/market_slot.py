"""From a slot's order events to TradeMatched / SlotCleared events (the Decimal boundary of the clearing)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from services.market.domain.clearing import Clearing, clear
from services.market.domain.decompose import GRID
from services.market.domain.network import TIER_A, TIER_B
from services.market.domain.problem import Rules, problem_from_orders
from services.market.domain.scaling import kwh, yen_from_wh_sen, yen_per_kwh
from services.market.domain.solvers import ClearingError
from services.market.settings import MarketSettings
from shared.contracts.energy import EnergyOrderPlaced, SlotCleared, TradeMatched

GRID_PARTICIPANT = "grid"
_TIER_NAME = {TIER_A: "A", TIER_B: "B"}


def trade_id(slot: datetime, sell_order: str, buy_order: str, tier: str, direct: bool) -> str:
    """Deterministic id: the same slot and orders always give the same trade id (exactly-once downstream).
    Order ids are only unique per participant, so callers pass ``participant/order_id``."""
    text = f"{slot.isoformat()}|{sell_order}|{buy_order}|{tier}|{int(direct)}"
    return "t-" + hashlib.sha256(text.encode()).hexdigest()[:30]


def clear_orders(slot: datetime, orders: Sequence[EnergyOrderPlaced], settings: MarketSettings,
                 rules: Rules | None = None) -> tuple[list[TradeMatched], SlotCleared]:
    rules = rules or settings.rules()
    problem, sells, buys = problem_from_orders(orders, rules)
    result = clear(problem, rules, settings.pricing)
    broken = result.problems()
    if broken:
        raise ClearingError(f"clearing of slot {slot.isoformat()} broke its invariants: " + "; ".join(broken))
    trades = to_events(slot, result, sells, buys)
    summary = SlotCleared(slot=slot, orders=len(orders), trades=len(trades), kwh=kwh(result.traded_wh),
                          surplus_yen=yen_from_wh_sen(result.surplus), pricing=settings.pricing)
    return trades, summary


def to_events(slot: datetime, result: Clearing, sells: Sequence[EnergyOrderPlaced],
              buys: Sequence[EnergyOrderPlaced]) -> list[TradeMatched]:
    t = result.trades
    out: list[TradeMatched] = []
    for k in range(len(t)):
        s = sells[t.sell[k]] if t.sell[k] != GRID else None
        b = buys[t.buy[k]] if t.buy[k] != GRID else None
        tier = _TIER_NAME.get(int(t.tier[k]), "grid")
        sell_id = f"{s.participant}/{s.order_id}" if s else GRID_PARTICIPANT
        buy_id = f"{b.participant}/{b.order_id}" if b else GRID_PARTICIPANT
        seller = s.participant if s else GRID_PARTICIPANT
        buyer = b.participant if b else GRID_PARTICIPANT
        if seller == buyer:
            raise ClearingError(f"clearing of slot {slot.isoformat()} matched {seller} with itself")
        out.append(TradeMatched(
            trade_id=trade_id(slot, sell_id, buy_id, tier, bool(t.direct[k])),
            slot=slot,
            seller=seller,
            buyer=buyer,
            kwh=kwh(t.wh[k]),
            price=yen_per_kwh(result.price_sen[k]),
            tier=tier,
            wheeling_fee=yen_per_kwh(result.fee_sen[k]),
            renewable=bool(result.renewable[k]),
            seller_site=s.site if s else None,
            buyer_site=b.site if b else None,
            sell_order_id=s.order_id if s else None,
            buy_order_id=b.order_id if b else None,
        ))
    out.sort(key=lambda e: e.trade_id)
    return out
