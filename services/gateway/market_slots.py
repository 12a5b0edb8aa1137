"""A read model of the market per slot for the operators' market & ledger panel: the kWh traded, the clearing
price and the renewable share, from what the market publishes.

``energy.trades`` ``TradeMatched`` (one per contract; redeliveries carry the same ``trade_id`` and count once)
gives each slot's kWh by tier (``A`` on-site, ``B`` community, ``grid``), the renewable kWh and the prices:
``price_yen_per_kwh`` is the kWh-weighted price of the slot's peer trades (tiers A and B; under pay-as-clear
each market place has one uniform price, so with one place it is the clearing price), ``community_price`` the
same over tier B only, ``min_price`` / ``max_price`` the spread. ``energy.clearings`` ``SlotCleared`` adds the
clearing's own summary: orders, trades, kWh, surplus and the pricing rule. The ledger's own per-slot totals
stay at ``GET /v1/operator/ledger/slots``; the panel shows both side by side.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from services.gateway.bus_feed import BusCatchUp
from services.gateway.topic_feed import KafkaTopicFeed
from shared.bus.inprocess import InProcessBus
from shared.contracts.base import AnyTopic, Payload
from shared.contracts.energy import CLEARINGS, TRADES, SlotCleared, TradeMatched

TOPICS: tuple[AnyTopic, ...] = (TRADES, CLEARINGS)
KEEP_SLOTS = 336  # a week of slots; older ones are dropped from the model (the ledger keeps them all)
ZERO = Decimal("0")


class MarketReader(Protocol):
    def slots(self, limit: int) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...


@dataclass
class _Slot:
    trade_ids: set[str] = field(default_factory=set)
    kwh: dict[str, Decimal] = field(default_factory=lambda: {"A": ZERO, "B": ZERO, "grid": ZERO})
    renewable_kwh: Decimal = ZERO
    peer_yen: Decimal = ZERO
    community_yen: Decimal = ZERO
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    cleared: SlotCleared | None = None


def _iso(slot: datetime) -> str:
    return slot.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _avg(yen: Decimal, kwh: Decimal) -> str | None:
    return None if kwh <= 0 else str((yen / kwh).quantize(Decimal("0.01")))


class MarketSlotBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[datetime, _Slot] = {}

    def apply(self, payload: Payload) -> None:
        with self._lock:
            if isinstance(payload, TradeMatched):
                self._trade(payload)
            elif isinstance(payload, SlotCleared):
                self._slot(payload.slot).cleared = payload

    def _slot(self, slot: datetime) -> _Slot:
        held = self._slots.get(slot)
        if held is None:
            held = self._slots[slot] = _Slot()
            while len(self._slots) > KEEP_SLOTS:
                del self._slots[min(self._slots)]
        return held

    def _trade(self, t: TradeMatched) -> None:
        s = self._slot(t.slot)
        if t.trade_id in s.trade_ids:
            return  # a redelivered trade is the same trade
        s.trade_ids.add(t.trade_id)
        s.kwh[t.tier] = s.kwh.get(t.tier, ZERO) + t.kwh
        if t.renewable:
            s.renewable_kwh += t.kwh
        if t.tier == "grid":
            return
        s.peer_yen += t.kwh * t.price
        if t.tier == "B":
            s.community_yen += t.kwh * t.price
        s.min_price = t.price if s.min_price is None else min(s.min_price, t.price)
        s.max_price = t.price if s.max_price is None else max(s.max_price, t.price)

    def slots(self, limit: int) -> list[dict[str, Any]]:
        """Newest slot first."""
        with self._lock:
            return [self._public(slot, s) for slot, s in sorted(self._slots.items(), reverse=True)[:limit]]

    @staticmethod
    def _public(slot: datetime, s: _Slot) -> dict[str, Any]:
        total = sum(s.kwh.values(), ZERO)
        peer = s.kwh["A"] + s.kwh["B"]
        c = s.cleared
        return {"slot": _iso(slot), "trades": len(s.trade_ids), "kwh": str(total),
                "kwh_by_tier": {tier: str(v) for tier, v in s.kwh.items()},
                "renewable_kwh": str(s.renewable_kwh),
                "renewable_share": None if total <= 0 else round(float(s.renewable_kwh / total), 4),
                "price_yen_per_kwh": _avg(s.peer_yen, peer), "community_price": _avg(s.community_yen, s.kwh["B"]),
                "min_price": None if s.min_price is None else str(s.min_price),
                "max_price": None if s.max_price is None else str(s.max_price),
                "clearing": None if c is None else {"orders": c.orders, "trades": c.trades, "kwh": str(c.kwh),
                                                    "surplus_yen": str(c.surplus_yen), "pricing": c.pricing}}

    def close(self) -> None:
        return None


class KafkaMarketFeed(KafkaTopicFeed):
    """The book fed from Kafka (see :mod:`services.gateway.topic_feed`)."""

    def __init__(self, bootstrap: str, retry_s: float = 0.5) -> None:
        super().__init__(bootstrap, TOPICS, "market-feed", retry_s)
        self.book = MarketSlotBook()

    def fold(self, payload: Any) -> None:
        self.book.apply(payload)

    def slots(self, limit: int) -> list[dict[str, Any]]:
        return self.book.slots(limit)


class BusMarket(MarketSlotBook):
    """The book over the in-process bus (demo, browser tests): catches up with the bus's log when read."""

    def __init__(self, bus: InProcessBus) -> None:
        super().__init__()
        self._catch_up = BusCatchUp(bus, TOPICS, self.apply)

    def slots(self, limit: int) -> list[dict[str, Any]]:
        self._catch_up()
        return super().slots(limit)
