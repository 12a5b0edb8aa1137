"""What the market's recent slots say about the coming ones: the price forecast of a planning agent.

Why the book and not only the clearing prices: a slot where nobody sold has no clearing price, yet its
buyers may have bid well above the buy-back price (the station area's shopping centres bid their own
19 yen/kWh supply contract all evening, unmatched). So the memory keeps, per half-hour of the local day,
the latest slot's orders with what each was filled by. A participant's forecast for a coming slot is the
grid's tariffs (retail, buy-back: always there) plus the book of others at that half-hour:

- bids: what others wanted to buy and did not get from anyone but this participant, at their limit
  (less the wheeling fee when they are not on this participant's site);
- asks: what others offered and did not sell to anyone but this participant, at their ask (plus the fee
  from another site).

Its own orders are left out, so an agent does not plan against itself. Pure; the caller records each
cleared slot (:meth:`PriceMemory.record`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from services.market.domain.day_plan import SlotPrice
from shared.contracts.energy import EnergyOrderPlaced, TradeMatched

LEVELS = 6  # price levels kept per side and slot: the plan needs the top of the book, not all of it


@dataclass(frozen=True)
class _Order:
    participant: str
    site: str | None
    kwh: float
    price: float
    fills: tuple[tuple[str, float], ...]  # (counterparty, kWh)

    def open_to(self, participant: str) -> float:
        """kWh nobody but ``participant`` took of this order."""
        return self.kwh - sum(kwh for who, kwh in self.fills if who != participant)


@dataclass
class PriceMemory:
    """The latest book per half-hour of the local day (``tz``), with the wheeling fee between sites."""

    tz: str
    wheeling_fee: float
    _bids: dict[int, tuple[_Order, ...]] = field(default_factory=dict)
    _asks: dict[int, tuple[_Order, ...]] = field(default_factory=dict)

    def half_hour(self, slot: datetime) -> int:
        local = slot.astimezone(ZoneInfo(self.tz))
        return local.hour * 2 + local.minute // 30

    def record(self, slot: datetime, orders: Iterable[EnergyOrderPlaced], trades: Iterable[TradeMatched]) -> None:
        """Keep ``slot``'s orders and who filled them (replacing the same half-hour of an earlier day)."""
        fills: dict[tuple[str, str, str], list[tuple[str, float]]] = {}
        for t in trades:
            if t.buy_order_id is not None:
                fills.setdefault(("buy", t.buyer, t.buy_order_id), []).append((t.seller, float(t.kwh)))
            if t.sell_order_id is not None:
                fills.setdefault(("sell", t.seller, t.sell_order_id), []).append((t.buyer, float(t.kwh)))
        kept: dict[str, list[_Order]] = {"buy": [], "sell": []}
        for o in orders:
            kept[o.side].append(_Order(o.participant, o.site, float(o.kwh), float(o.limit_price),
                                       tuple(fills.get((o.side, o.participant, o.order_id), ()))))
        index = self.half_hour(slot)
        self._bids[index], self._asks[index] = tuple(kept["buy"]), tuple(kept["sell"])

    def forecast(self, participant: str, site: str | None, slots: Sequence[datetime], retail: Decimal,
                 buyback: Decimal) -> tuple[SlotPrice, ...]:
        """Expected prices of ``slots`` for ``participant`` at ``site``; the tariffs alone where nothing is known."""
        return tuple(self._slot(participant, site, self.half_hour(s), float(retail), float(buyback)) for s in slots)

    def _slot(self, participant: str, site: str | None, index: int, retail: float, buyback: float) -> SlotPrice:
        def fee(o: _Order) -> float:
            return 0.0 if site is not None and o.site == site else self.wheeling_fee

        bids = _levels(((o.open_to(participant), o.price - fee(o)) for o in self._bids.get(index, ())
                        if o.participant != participant), buyback, retail, highest_first=True)
        top = max((y for _, y in bids), default=buyback)
        asks = _levels(((o.open_to(participant), o.price + fee(o)) for o in self._asks.get(index, ())
                        if o.participant != participant), top, retail, highest_first=False)
        return SlotPrice(retail, buyback, bids, asks)


def _levels(volumes: Iterable[tuple[float, float]], lo: float, hi: float,
            highest_first: bool) -> tuple[tuple[float, float], ...]:
    """(kWh, yen) summed per price strictly inside (lo, hi), best first, at most LEVELS of them."""
    by_price: dict[float, float] = {}
    for kwh, price in volumes:
        price = round(price, 2)
        if kwh > 1e-9 and lo < price < hi:
            by_price[price] = by_price.get(price, 0.0) + kwh
    best = sorted(by_price, reverse=highest_first)[:LEVELS]
    return tuple((round(by_price[p], 3), p) for p in best)
