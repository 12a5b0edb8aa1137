"""What logistics says on the bus: parcels to deliver in; assignments, failures and returns out.

Topics: ``logistics.requests`` (ParcelRequested, DeliveryFailed reported by a courier; keyed by parcel),
``logistics.assignments`` (ParcelAssigned, ParcelUndeliverable, ParcelReturned; keyed by parcel).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

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


REQUESTS: Topic[ParcelRequested | DeliveryFailed] = Topic(
    "logistics.requests", key="parcel", payloads=(ParcelRequested, DeliveryFailed))
ASSIGNMENTS: Topic[ParcelAssigned | ParcelUndeliverable | ParcelReturned] = Topic(
    "logistics.assignments", key="parcel", payloads=(ParcelAssigned, ParcelUndeliverable, ParcelReturned))

TOPICS: tuple[AnyTopic, ...] = (REQUESTS, ASSIGNMENTS)
