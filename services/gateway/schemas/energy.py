"""Orders, cancellations, trades and rejections as the app sees them (the participant comes from the token)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.events import SLOT, Kwh, Slot, YenPerKwh, utcnow


class OrderCreate(BaseModel):
    """Buy or sell kWh in one 30-minute slot at a limit price (yen/kWh)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "side": "sell", "slot": "2026-11-28T13:00:00+09:00", "kwh": "1.2", "limit_price": "12.50",
        "renewable": True}]})
    order_id: str = Field(default_factory=lambda: uuid.uuid4().hex, min_length=1, max_length=64,
                          description="client-chosen id; re-posting the same id is rejected as a duplicate")
    side: Literal["buy", "sell"]
    slot: Slot = Field(description="slot start, on a 30-minute boundary, with a time zone")
    kwh: Kwh
    limit_price: YenPerKwh
    site: str | None = Field(default=None, max_length=64)
    renewable: bool = False
    green_premium: YenPerKwh = Decimal("0")
    preferred_partners: tuple[str, ...] = ()

    @field_validator("slot")
    @classmethod
    def _not_started(cls, slot: datetime) -> datetime:
        # The market refuses more (gate closure, horizon, limits) and says why on /v1/energy/rejections;
        # a slot that has already begun can be refused here, at once.
        if slot + SLOT <= utcnow():
            raise ValueError(f"slot {slot.isoformat()} is in the past")
        return slot


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
