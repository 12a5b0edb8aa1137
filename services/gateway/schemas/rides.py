"""What "My rides and deliveries" takes and answers: a ride request between two named places, the rider's
rides with the dispatcher's answers, and the parcels the user sent."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class RidePointPublic(BaseModel):
    key: str
    name_ja: str
    name_en: str
    lat: float
    lon: float


class RideBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    origin: str = Field(min_length=1, max_length=32, description="a place key from GET /v1/app/rides/places")
    destination: str = Field(min_length=1, max_length=32, description="a place key, not the origin")
    earliest_pickup: AwareDatetime = Field(description="not more than 5 minutes ago and within 24 hours")
    latest_arrival: AwareDatetime = Field(description="after earliest_pickup, within 3 hours of it")
    party: int = Field(default=1, ge=1, le=8)
    wheelchair: bool = False
    request_id: str | None = Field(default=None, min_length=8, max_length=40, pattern=r"^[A-Za-z0-9_-]+$",
                                   description="the app's own id for this request: sending it again (a retry) "
                                               "asks for the same ride, never a second one")


class RideAccepted(BaseModel):
    request_id: str
    event_id: str


RideState = Literal["requested", "accepted", "declined", "completed"]
ParcelState = Literal["requested", "assigned", "delivered", "undeliverable", "returned", "failed"]


class RidePublic(BaseModel):
    request_id: str
    state: RideState
    origin: tuple[float, float]
    destination: tuple[float, float]
    earliest_pickup: datetime
    latest_arrival: datetime
    party: int
    wheelchair: bool
    vehicle: str | None
    pickup_from: datetime | None
    pickup_until: datetime | None
    planned_dropoff: datetime | None
    fare_yen: int | None
    reason: str
    alternative: str
    alternative_pickup: datetime | None
    picked_up_at: datetime | None
    dropped_off_at: datetime | None


class DeliveryPublic(BaseModel):
    parcel_id: str
    state: ParcelState
    depot: str
    to: tuple[float, float]
    deliver_from: datetime
    deliver_until: datetime
    weight_kg: float
    courier: str | None
    planned_at: datetime | None
    fee_yen: int | None
    reason: str
    delivered_at: datetime | None
