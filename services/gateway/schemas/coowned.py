"""What "Co-owned car" takes and answers: a member's booking of one of their group's cars, the member's bookings
with the group's answers, and the operator's close of a group's month."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.gateway.schemas.types import ID_PATTERN
from shared.contracts.mobility import PERIOD_PATTERN


class BookingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group: str = Field(min_length=1, max_length=64, pattern=ID_PATTERN, description="the co-owning group, e.g. "
                                                                                    "ebina-kashiwa-ev")
    car: str | None = Field(default=None, min_length=1, max_length=64, pattern=ID_PATTERN,
                            description="the car preferred (another free car of the group otherwise); none: any")
    start: AwareDatetime = Field(description="not more than 5 minutes ago and within 60 days")
    end: AwareDatetime = Field(description="after start, at most 24 hours after it")
    distance_km: float | None = Field(default=None, ge=0, le=2000, description="the trip's expected distance")
    booking_id: str | None = Field(default=None, min_length=8, max_length=40, pattern=r"^[A-Za-z0-9_-]+$",
                                   description="the app's own id for this booking: sending it again (a retry) "
                                               "books once, never twice")


class BookingAccepted(BaseModel):
    booking_id: str
    event_id: str


BookingState = Literal["requested", "accepted", "declined"]


class BookingPublic(BaseModel):
    booking_id: str
    state: BookingState
    group: str
    asked_car: str | None = Field(description="the car asked for (none: any)")
    start: datetime
    end: datetime
    distance_m: int
    car: str | None = Field(description="the car held, once accepted")
    period: str | None = Field(description="the month the booking is billed in, once answered")
    reason: str = Field(description="why not, when declined")
    free_cars: list[str] = Field(description="the group's cars free for the whole time, when declined")


class PeriodCloseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period: str = Field(pattern=PERIOD_PATTERN, description="the month to close, e.g. 2026-11 (Japan time)")


class PeriodClosure(BaseModel):
    group: str
    period: str
    event_id: str
