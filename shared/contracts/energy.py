"""Energy market contracts: orders, gate closures, rejections, trades, clearings, device dispatch, and the
sites' PV forecasts the planners read."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.base import AnyTopic, Kwh, Payload, Slot, Topic, YenPerKwh, utcnow


class EnergyOrderPlaced(Payload):
    """A participant's limit order to buy or sell energy in one 30-minute slot."""

    event_type: ClassVar[str] = "energy.order.placed"
    order_id: str = Field(min_length=1, max_length=64)
    participant: str = Field(min_length=1, max_length=64)
    side: Literal["buy", "sell"]
    slot: Slot
    kwh: Kwh
    limit_price: YenPerKwh
    site: str | None = Field(default=None, max_length=64, description="site id for on-site (tier A) trades")
    renewable: bool = Field(default=False, description="sell: the kWh are of renewable origin; "
                                                        "buy: the buyer wants renewable kWh")
    green_premium: YenPerKwh = Field(default=Decimal("0"), description="extra yen/kWh a buyer pays for renewable kWh")
    preferred_partners: tuple[str, ...] = ()
    placed_at: datetime = Field(default_factory=utcnow)

    def key(self) -> str:
        # The market clears one slot at a time, so the order book of a slot must live on one partition.
        return self.slot.isoformat()


class EnergyOrderCancelled(Payload):
    """A participant withdraws one of their orders before the slot's gate closes."""

    event_type: ClassVar[str] = "energy.order.cancelled"
    order_id: str
    participant: str
    slot: Slot

    def key(self) -> str:
        return self.slot.isoformat()


class GateClosed(Payload):
    """No more orders for ``slot``: the market clears it. Published by the market's clock or an operator."""

    event_type: ClassVar[str] = "energy.gate.closed"
    slot: Slot

    def key(self) -> str:
        return self.slot.isoformat()


class OrderRejected(Payload):
    """Why an order did not enter the book; the sender sees the reason."""

    event_type: ClassVar[str] = "energy.order.rejected"
    order_id: str
    participant: str
    slot: datetime | None = None
    reason: str

    def key(self) -> str:
        return self.participant


class TradeMatched(Payload):
    """One contract: seller -> buyer, kWh at a price inside one slot (supply equals demand inside it)."""

    event_type: ClassVar[str] = "energy.trade.matched"
    trade_id: str
    slot: Slot
    seller: str
    buyer: str
    kwh: Kwh
    price: YenPerKwh
    tier: Literal["A", "B", "grid"] = "B"
    wheeling_fee: YenPerKwh = Decimal("0")
    renewable: bool = False
    seller_site: str | None = None
    buyer_site: str | None = None
    sell_order_id: str | None = None
    buy_order_id: str | None = None

    def key(self) -> str:
        return self.slot.isoformat()


class SlotCleared(Payload):
    """Summary of one clearing, for dashboards and for tests that wait on a slot."""

    event_type: ClassVar[str] = "energy.slot.cleared"
    slot: Slot
    orders: int
    trades: int
    kwh: Decimal
    surplus_yen: Decimal
    pricing: str

    def key(self) -> str:
        return self.slot.isoformat()


class DispatchSetpoint(Payload):
    """Charge (+) or discharge (-) set-point for one device in one slot, following the contracts."""

    event_type: ClassVar[str] = "energy.dispatch.setpoint"
    device: str
    participant: str
    slot: Slot
    kwh: Decimal
    trade_ids: tuple[str, ...] = ()

    def key(self) -> str:
        return self.device


class DispatchMissed(Payload):
    """A set-point no device confirmed by the end of its slot: a contract that may not have been carried out."""

    event_type: ClassVar[str] = "energy.dispatch.missed"
    device: str
    participant: str
    slot: datetime
    kwh: Decimal
    trade_ids: tuple[str, ...] = ()

    def key(self) -> str:
        return self.device


class DispatchAcknowledged(Payload):
    """A device agent's word that it applied (or will apply) its set-point for ``slot``."""

    event_type: ClassVar[str] = "energy.dispatch.acknowledged"
    device: str = Field(min_length=1, max_length=128)
    participant: str = Field(min_length=1, max_length=64)
    slot: Slot
    kwh_applied: Decimal

    def key(self) -> str:
        return self.device


class SiteForecast(Payload):
    """PV surplus over the site's own load, kWh per 30-minute slot from ``start``."""

    event_type: ClassVar[str] = "energy.forecast.site"
    site: str = Field(min_length=1, max_length=64)
    start: Slot
    pv_kwh: tuple[Decimal, ...] = Field(max_length=192)

    def key(self) -> str:
        return self.site


# Orders, cancellations and gate closures of a slot share this topic and key, so they stay in order.
ORDERS: Topic[EnergyOrderPlaced | EnergyOrderCancelled | GateClosed] = Topic(
    "energy.orders", key="slot", payloads=(EnergyOrderPlaced, EnergyOrderCancelled, GateClosed))
REJECTIONS: Topic[OrderRejected] = Topic("energy.rejections", key="participant", payloads=(OrderRejected,))
TRADES: Topic[TradeMatched] = Topic("energy.trades", key="slot", payloads=(TradeMatched,), retention_ms=None)
CLEARINGS: Topic[SlotCleared] = Topic("energy.clearings", key="slot", payloads=(SlotCleared,))
DISPATCH: Topic[DispatchSetpoint | DispatchMissed] = Topic(
    "energy.dispatch", key="device", payloads=(DispatchSetpoint, DispatchMissed))
DISPATCH_ACKS: Topic[DispatchAcknowledged] = Topic(
    "energy.dispatch.acks", key="device", payloads=(DispatchAcknowledged,))

FORECASTS: Topic[SiteForecast] = Topic("energy.forecasts", key="site", payloads=(SiteForecast,))

TOPICS: tuple[AnyTopic, ...] = (ORDERS, REJECTIONS, TRADES, CLEARINGS, DISPATCH, DISPATCH_ACKS, FORECASTS)
