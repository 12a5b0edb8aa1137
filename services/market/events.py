"""Events of the device side of dispatch: devices confirm set-points; the market reports the missed ones."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from pydantic import Field

from shared.events import Payload, Slot, register

ACKS = "energy.dispatch.acks"


@register
class DispatchAcknowledged(Payload):
    """A device agent's word that it applied (or will apply) its set-point for ``slot``."""

    event_type: ClassVar[str] = "energy.dispatch.acknowledged"
    device: str = Field(min_length=1, max_length=128)
    participant: str = Field(min_length=1, max_length=64)
    slot: Slot
    kwh_applied: Decimal

    def key(self) -> str:
        return self.device


@register
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
