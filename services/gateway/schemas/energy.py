"""Orders, cancellations, trades and rejections as the app sees them (the participant comes from the token)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.gateway.schemas.types import Flag, Id, Kwh, Price, SlotStart

MAX_PARTNERS = 20


class OrderCreate(BaseModel):
    """Buy or sell kWh in one 30-minute slot at a limit price (yen/kWh)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "side": "sell", "slot": "2030-11-28T13:00:00+09:00", "kwh": "1.2", "limit_price": "12.50",
        "renewable": True}]})
    order_id: Id | None = Field(default=None, description=(
        "client-chosen id, unique among the caller's orders; without one the gateway derives it from the "
        "Idempotency-Key (or makes one up). Re-posting the same id with the same content places it once."))
    side: Literal["buy", "sell"]
    slot: SlotStart
    kwh: Kwh
    limit_price: Price
    site: Id | None = None
    renewable: Flag = False
    green_premium: Price = Decimal("0")
    preferred_partners: list[Id] = Field(default_factory=list, max_length=MAX_PARTNERS,
                                         description=f"at most {MAX_PARTNERS} participant ids")


MAX_BATCH = 200


class BatchOrder(OrderCreate):
    """One order of a batch: as for a single order, but its ``order_id`` is required (see ``OrderBatch``)."""

    order_id: Id = Field(description="client-chosen id, unique among the caller's orders; re-posting a batch "
                                     "places each order once")


class OrderBatch(BaseModel):
    """Up to ``MAX_BATCH`` orders of the caller in one request, e.g. a device agent's bids for the day's slots.

    Every order carries its own ``order_id``: the event of each order is a function of it, so a retried batch
    (after a 503, or a lost answer) places each order once.
    """

    model_config = ConfigDict(extra="forbid")
    orders: list[BatchOrder] = Field(min_length=1, max_length=MAX_BATCH,
                                     description=f"1 to {MAX_BATCH} orders, each with a distinct order_id")


class OrderAccepted(BaseModel):
    order_id: str
    participant: str
    slot: datetime
    event_id: str
    status: Literal["accepted"] = "accepted"


class BatchAccepted(BaseModel):
    orders: list[OrderAccepted]
    status: Literal["accepted"] = "accepted"


class CancelRequested(BaseModel):
    order_id: str
    event_id: str
    status: Literal["cancel requested"] = "cancel requested"


class TradePublic(BaseModel):
    trade_id: str
    slot: str
    role: Literal["buyer", "seller"]
    seller: str
    buyer: str
    kwh: Decimal
    price: Decimal
    amount_yen: Decimal
    tier: str
    renewable: bool


class RejectionPublic(BaseModel):
    order_id: str
    slot: str | None
    reason: str
