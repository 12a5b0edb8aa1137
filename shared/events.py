"""Typed, versioned event contracts shared by every service.

Every record on a topic is an :class:`Envelope` around one payload model. The envelope carries what
consumers need to stay idempotent and auditable (event id, type, schema version, time of occurrence,
producer, key); the payload is the business fact. JSON is the wire format.

A payload class is registered under its ``event_type`` so that a consumer can decode any message
without knowing in advance which type arrives; unknown types and invalid payloads raise
:class:`~shared.errors.EventDecodeError` with a reason that names the bad field.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

SLOT_MINUTES = 30
SLOT = timedelta(minutes=SLOT_MINUTES)

Kwh = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=3, description="energy in kWh (Wh resolution)")]
YenPerKwh = Annotated[Decimal, Field(ge=0, le=1000, max_digits=10, decimal_places=2, description="price in yen/kWh")]


def utcnow() -> datetime:
    return datetime.now(UTC)


def slot_start(moment: datetime) -> datetime:
    """The start of the 30-minute slot containing ``moment`` (UTC)."""
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % SLOT_MINUTES, second=0, microsecond=0)


def check_slot(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("slot must carry a time zone, e.g. 2026-11-27T09:00:00+09:00")
    value = value.astimezone(UTC)
    if value.minute % SLOT_MINUTES or value.second or value.microsecond:
        raise ValueError("slot must start on a 30-minute boundary (hh:00 or hh:30)")
    return value


Slot = Annotated[datetime, AfterValidator(check_slot)]


class Payload(BaseModel):
    """Base of every business payload; subclasses set ``event_type`` and ``schema_version``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    def key(self) -> str:
        """The partitioning key on the payload's topic."""
        raise NotImplementedError


_REGISTRY: dict[str, type[Payload]] = {}


def register(cls: type[Payload]) -> type[Payload]:
    _REGISTRY[cls.event_type] = cls
    return cls


def payload_class(event_type: str) -> type[Payload]:
    try:
        return _REGISTRY[event_type]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"unknown event type {event_type!r} (known: {known})") from None


class Envelope(BaseModel):
    """What travels on a topic: metadata plus one payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    event_id: str
    event_type: str
    schema_version: int
    occurred_at: datetime
    producer: str
    key: str
    payload: dict[str, Any]

    @classmethod
    def wrap(cls, payload: Payload, producer: str, *, event_id: str | None = None,
             occurred_at: datetime | None = None) -> Envelope:
        return cls(
            event_id=event_id or str(uuid.uuid4()),
            event_type=payload.event_type,
            schema_version=payload.schema_version,
            occurred_at=occurred_at or utcnow(),
            producer=producer,
            key=payload.key(),
            payload=payload.model_dump(mode="json"),
        )

    def body(self) -> Payload:
        """The typed payload; raises pydantic's ValidationError if it does not fit its schema."""
        return payload_class(self.event_type).model_validate(self.payload)


# --------------------------------------------------------------------------- energy


@register
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


@register
class EnergyOrderCancelled(Payload):
    event_type: ClassVar[str] = "energy.order.cancelled"
    order_id: str
    participant: str
    slot: Slot


    def key(self) -> str:
        return self.slot.isoformat()


@register
class GateClosed(Payload):
    """No more orders for ``slot``: the market clears it. Published by the market's clock or an operator."""

    event_type: ClassVar[str] = "energy.gate.closed"
    slot: Slot


    def key(self) -> str:
        return self.slot.isoformat()


@register
class OrderRejected(Payload):
    """Why an order did not enter the book; the sender sees the reason."""

    event_type: ClassVar[str] = "energy.order.rejected"
    order_id: str
    participant: str
    slot: datetime | None = None
    reason: str

    def key(self) -> str:
        return self.participant


@register
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


@register
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


@register
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


@register
class LedgerReceipt(Payload):
    """The settlement service's word that a trade is on the ledger."""

    event_type: ClassVar[str] = "ledger.receipt"
    trade_id: str
    participant: str
    entry_seq: int
    entry_hash: str
    amount_yen: Decimal

    def key(self) -> str:
        return self.participant


@register
class LedgerAnchor(Payload):
    """Merkle root of one slot's ledger entries, so outsiders can hold the ledger to it."""

    event_type: ClassVar[str] = "ledger.anchor"
    slot: Slot
    merkle_root: str
    entries: int

    def key(self) -> str:
        return self.slot.isoformat()
