"""What logistics says on the bus: parcels to deliver in; assignments, failures and returns out; shops' days.

Topics: ``logistics.requests`` (ParcelRequested, DeliveryFailed reported by a courier; keyed by parcel),
``logistics.assignments`` (ParcelAssigned, ParcelUndeliverable, ParcelReturned, ParcelDelivered with its fee;
keyed by parcel),
``logistics.shop_days`` (ShopDayReported: a shop's sales, stock and write-offs of one item for one day; keyed
by shop), ``logistics.stock`` (StockLevelReported, compacted: the latest stock of every shop and item, the
shared view of who still has stock; keyed by shop and item). Anomalies found in shops' days
(StockAnomalyDetected) go to ``city.anomalies`` with the crowd's (see :mod:`shared.contracts.crowd`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from shared.contracts.base import AnyTopic, Payload, Topic


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a time zone, e.g. 2026-12-01T14:00:00+09:00")
    return value


class ParcelRequested(Payload):
    """A shop or depot hands over a parcel for a home, to arrive inside a time window."""

    event_type: ClassVar[str] = "logistics.parcel.requested"
    parcel_id: str = Field(min_length=1, max_length=64)
    sender: str = Field(min_length=1, max_length=64)
    depot: str = Field(min_length=1, max_length=32, description="network ref of the depot, e.g. lalaport")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    deliver_from: datetime
    deliver_until: datetime
    weight_kg: float = Field(gt=0, le=100)
    size_l: float = Field(gt=0, le=500)

    _tz = field_validator("deliver_from", "deliver_until")(_aware)

    @model_validator(mode="after")
    def _order(self) -> ParcelRequested:
        if self.deliver_until <= self.deliver_from:
            raise ValueError("deliver_until must be after deliver_from")
        return self

    def key(self) -> str:
        return self.parcel_id


class DeliveryFailed(Payload):
    """A courier could not hand the parcel over (nobody home, wrong address, refused)."""

    event_type: ClassVar[str] = "logistics.delivery.failed"
    parcel_id: str
    courier: str
    reason: str = Field(min_length=1, max_length=200)

    def key(self) -> str:
        return self.parcel_id


class ParcelAssigned(Payload):
    """The parcel's courier, its place in the round and the planned hand-over time (latest plan wins)."""

    event_type: ClassVar[str] = "logistics.parcel.assigned"
    parcel_id: str
    courier: str
    position: int
    planned_at: datetime
    plan_revision: int

    def key(self) -> str:
        return self.parcel_id


class ParcelUndeliverable(Payload):
    """No courier can deliver the parcel inside its window: the sender hears why."""

    event_type: ClassVar[str] = "logistics.parcel.undeliverable"
    parcel_id: str
    sender: str
    reason: str

    def key(self) -> str:
        return self.parcel_id


class ParcelReturned(Payload):
    """A failed delivery goes back to its depot, with the courier's reason."""

    event_type: ClassVar[str] = "logistics.parcel.returned"
    parcel_id: str
    sender: str
    depot: str
    reason: str

    def key(self) -> str:
        return self.parcel_id


class ParcelDelivered(Payload):
    """The parcel was handed over: the sender pays its delivery fee, the courier's operator gets the payout."""

    event_type: ClassVar[str] = "logistics.parcel.delivered"
    parcel_id: str
    sender: str
    courier: str
    operator: str = Field(min_length=1, max_length=64)
    fee_yen: int = Field(ge=0, le=100_000)
    payout_yen: int = Field(ge=0, le=100_000)
    delivered_at: datetime

    _tz = field_validator("delivered_at")(_aware)

    @model_validator(mode="after")
    def _split(self) -> ParcelDelivered:
        if self.payout_yen > self.fee_yen:
            raise ValueError("payout_yen must not exceed fee_yen")
        return self

    def key(self) -> str:
        return self.parcel_id


class ShopDayReported(Payload):
    """One shop's day for one item, reported at closing: units sold, units left, units written off."""

    event_type: ClassVar[str] = "logistics.shop_day.reported"
    shop: str = Field(min_length=1, max_length=64)
    item: str = Field(min_length=1, max_length=64)
    day: date
    sold: int = Field(ge=0, le=10_000_000)
    stock_end: int = Field(ge=0, le=10_000_000)
    written_off: int = Field(default=0, ge=0, le=10_000_000)
    area: Literal["office", "home", "station", "mixed"] = Field(
        default="mixed", description="what surrounds the shop: demand moving from offices to homes shows here")

    def key(self) -> str:
        return self.shop


AnomalyKind = Literal["surge", "stockout", "waste", "shift"]


class StockAnomalyDetected(Payload):
    """A shop's day far from its own recent past: a buying surge, a stock-out, waste, or demand moving between
    office and home areas (shop ``area:home``, item ``*``). The evidence is the numbers it was judged on."""

    event_type: ClassVar[str] = "city.stock_anomaly.detected"
    kind: AnomalyKind
    shop: str
    item: str
    day: date
    observed: float
    expected: float
    robust_z: float
    evidence: str = Field(max_length=300)

    def key(self) -> str:
        return self.shop


class StockLevelReported(Payload):
    """The latest stock of one item at one shop (``out`` when none was left at closing)."""

    event_type: ClassVar[str] = "logistics.stock.reported"
    shop: str
    item: str
    day: date
    stock_end: int
    status: Literal["in_stock", "low", "out"]

    def key(self) -> str:
        return f"{self.shop}:{self.item}"


REQUESTS: Topic[ParcelRequested | DeliveryFailed] = Topic(
    "logistics.requests", key="parcel", payloads=(ParcelRequested, DeliveryFailed))
ASSIGNMENTS: Topic[ParcelAssigned | ParcelUndeliverable | ParcelReturned | ParcelDelivered] = Topic(
    "logistics.assignments", key="parcel",
    payloads=(ParcelAssigned, ParcelUndeliverable, ParcelReturned, ParcelDelivered))

SHOP_DAYS: Topic[ShopDayReported] = Topic("logistics.shop_days", key="shop", payloads=(ShopDayReported,),
                                          retention_ms=None)
STOCK: Topic[StockLevelReported] = Topic("logistics.stock", key="shop:item", payloads=(StockLevelReported,),
                                         compacted=True, retention_ms=None)

TOPICS: tuple[AnyTopic, ...] = (REQUESTS, ASSIGNMENTS, SHOP_DAYS, STOCK)
