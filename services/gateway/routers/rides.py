"""My rides and deliveries: ask for a ride between two named places, see the dispatcher's answer (a pick-up
window and the fare, or why not and the nearest alternative) and the ride's end; see the parcels one sent.

A request is published on ``mobility.requests`` for the dispatcher to answer on ``mobility.assignments``; the
app reads the answers back from the gateway's read model (``services.gateway.rides``). A request id the app
chose makes a retry the same request (the same id and the same event), never a second ride.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from services.gateway.deps import Bus, ParticipantReader, gateway
from services.gateway.errors import FieldRuleError
from services.gateway.idempotency import app_request_id, event_id_for, fingerprint
from services.gateway.ride_points import RIDE_POINTS
from services.gateway.rides import RideReader
from services.gateway.schemas.common import error_responses
from services.gateway.schemas.rides import DeliveryPublic, RideAccepted, RideBody, RidePointPublic, RidePublic
from shared.contracts.base import utcnow
from shared.contracts.mobility import REQUESTS, RideRequested

router = APIRouter(prefix="/v1/app", tags=["app"], responses=error_responses(401, 403))
PAST_GRACE = timedelta(minutes=5)
AHEAD = timedelta(hours=24)
LONGEST = timedelta(hours=3)


async def _rides(request: Request) -> RideReader:
    return gateway(request).rides


Rides = Annotated[RideReader, Depends(_rides)]


def check_ride(body: RideBody, now: datetime) -> None:
    """The request's rules, each a 422 naming its field."""
    for field in ("origin", "destination"):
        if getattr(body, field) not in RIDE_POINTS:
            raise FieldRuleError(("body", field), f"unknown place {getattr(body, field)!r}; one of "
                                                  f"{', '.join(sorted(RIDE_POINTS))}")
    if body.destination == body.origin:
        raise FieldRuleError(("body", "destination"), "must differ from origin")
    if body.earliest_pickup < now - PAST_GRACE:
        raise FieldRuleError(("body", "earliest_pickup"), "is in the past")
    if body.earliest_pickup > now + AHEAD:
        raise FieldRuleError(("body", "earliest_pickup"), "must be within 24 hours")
    if body.latest_arrival <= body.earliest_pickup:
        raise FieldRuleError(("body", "latest_arrival"), "must be after earliest_pickup")
    if body.latest_arrival - body.earliest_pickup > LONGEST:
        raise FieldRuleError(("body", "latest_arrival"), "must be within 3 hours of earliest_pickup")


@router.get("/rides/places", response_model=list[RidePointPublic])
def ride_places() -> list[dict[str, Any]]:
    """The places a ride can start and end at."""
    return [vars(p) for p in RIDE_POINTS.values()]


@router.post("/rides", status_code=202, response_model=RideAccepted, responses=error_responses(413, 422, 503))
async def request_ride(body: RideBody, rider: ParticipantReader, bus: Bus) -> RideAccepted:
    """Ask for a ride; the answer follows on ``GET /v1/app/rides``. 503: the broker did not confirm, send the
    same request (with its request_id) again."""
    check_ride(body, utcnow())
    origin, destination = RIDE_POINTS[body.origin], RIDE_POINTS[body.destination]
    request_id = app_request_id("r-", rider, body.request_id)
    event = RideRequested(request_id=request_id, rider=rider, origin_lat=origin.lat, origin_lon=origin.lon,
                          destination_lat=destination.lat, destination_lon=destination.lon,
                          earliest_pickup=body.earliest_pickup, latest_arrival=body.latest_arrival,
                          party=body.party, wheelchair=body.wheelchair)
    envelope = await bus.publish(REQUESTS, event, event_id=event_id_for(
        rider, request_id, fingerprint(body.model_dump(mode="json"))))
    return RideAccepted(request_id=request_id, event_id=envelope.event_id)


@router.get("/rides", response_model=list[RidePublic])
def my_rides(rider: ParticipantReader, rides: Rides) -> Any:
    """The caller's rides, newest first, each with the dispatcher's answer and its end once done."""
    return rides.rides_for(rider)


@router.get("/deliveries", response_model=list[DeliveryPublic])
def my_deliveries(sender: ParticipantReader, rides: Rides) -> Any:
    """The parcels the caller sent, newest first: courier, planned hand-over, delivered (with the fee) or why
    not."""
    return rides.deliveries_for(sender)
