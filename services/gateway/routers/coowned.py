"""Co-owned cars: a member books one of their group's cars for a trip and sees the group's answer (the car
held, or why not and which cars are free then); an operator closes a group's month so its costs are split.

A booking is published on ``mobility.coowned`` for the mobility service to answer on the same topic; the app
reads the answers back from the gateway's read model (``services.gateway.rides``). A booking id the app chose
makes a retry the same booking (the same id and the same event), never a second one; a close of the same group
and month is always the same event.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path

from services.gateway.deps import Bus, Operator, ParticipantReader
from services.gateway.errors import FieldRuleError
from services.gateway.idempotency import app_request_id, event_id_for, fingerprint
from services.gateway.routers.rides import Rides
from services.gateway.schemas.common import error_responses
from services.gateway.schemas.coowned import (
    BookingAccepted,
    BookingBody,
    BookingPublic,
    PeriodCloseBody,
    PeriodClosure,
)
from services.gateway.schemas.types import ID_PATTERN
from shared.contracts.base import utcnow
from shared.contracts.mobility import COOWNED, CoownedBookingRequested, CoownedPeriodClosed

router = APIRouter(prefix="/v1/app/coowned", tags=["app"], responses=error_responses(401, 403))
operator_router = APIRouter(prefix="/v1/operator/coowned", tags=["operator"], responses=error_responses(401, 403, 503))
PAST_GRACE = timedelta(minutes=5)
AHEAD = timedelta(days=60)
LONGEST = timedelta(hours=24)


def check_booking(body: BookingBody, now: datetime) -> None:
    """The booking's rules, each a 422 naming its field."""
    if body.end <= body.start:
        raise FieldRuleError(("body", "end"), "must be after start")
    if body.start < now - PAST_GRACE:
        raise FieldRuleError(("body", "start"), "is in the past")
    if body.start > now + AHEAD:
        raise FieldRuleError(("body", "start"), "must be within 60 days")
    if body.end - body.start > LONGEST:
        raise FieldRuleError(("body", "end"), "must be within 24 hours of start")


@router.post("/bookings", status_code=202, response_model=BookingAccepted,
                 responses=error_responses(413, 422, 503))
async def book_car(body: BookingBody, member: ParticipantReader, bus: Bus) -> BookingAccepted:
    """Book a car of one's co-owning group; the answer follows on ``GET /v1/app/coowned/bookings``. 503: the
    broker did not confirm, send the same booking (with its booking_id) again."""
    check_booking(body, utcnow())
    booking_id = app_request_id("b-", member, body.booking_id)
    event = CoownedBookingRequested(booking_id=booking_id, group=body.group, member=member, car=body.car,
                                    start=body.start, end=body.end,
                                    distance_m=round((body.distance_km or 0) * 1000))
    envelope = await bus.publish(COOWNED, event, event_id=event_id_for(
        member, booking_id, fingerprint(body.model_dump(mode="json"))))
    return BookingAccepted(booking_id=booking_id, event_id=envelope.event_id)


@router.get("/bookings", response_model=list[BookingPublic])
def my_bookings(member: ParticipantReader, rides: Rides) -> Any:
    """The caller's co-owned car bookings, newest first, each with the group's answer."""
    return rides.bookings_for(member)


@operator_router.post("/{group}/close", status_code=202, response_model=PeriodClosure,
                      responses=error_responses(413, 422))
async def close_period(group: Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN,
                                                  description="the co-owning group")],
                       body: PeriodCloseBody, _: Operator, bus: Bus) -> PeriodClosure:
    """Close a group's month: the mobility service splits its costs and settlement bills each member once; the
    month takes no more bookings. Closing it again (a retry) is the same event."""
    envelope = await bus.publish(COOWNED, CoownedPeriodClosed(group=group, period=body.period),
                                 event_id=event_id_for("coowned-close", group, body.period))
    return PeriodClosure(group=group, period=body.period, event_id=envelope.event_id)
