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


class OrderAccepted(BaseModel):
    order_id: str
    participant: str
    slot: datetime
    event_id: str
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
