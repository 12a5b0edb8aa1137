"""What mobility says on the bus: ride requests in, answers to riders, vehicle plans and completed rides out.

Topics: ``mobility.requests`` (RideRequested, keyed by request), ``mobility.assignments`` (RideAnswered for
the rider, VehiclePlanned for the driver, RideCompleted for settlement; keyed by request or vehicle; and the
ride fleet's lending to logistics: VehicleWindowsOffered, the idle hours a vehicle with cargo room offers for a
delivery round, and FleetJobAnswered, the answer to logistics' FleetJobRequested on ``mobility.requests``),
``mobility.coowned`` (a co-owning group's bookings, their answers and cancellations, and the close of a period;
keyed by group), ``mobility.cost_shares`` (CostShareSettled: a co-owning group's period split and each member's bill,
for settlement; keyed by group).
Times are timezone-aware datetimes on the wire; the dispatcher works in seconds of the service day.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from shared.contracts.base import AnyTopic, Payload, Topic


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a time zone, e.g. 2026-12-01T08:30:00+09:00")
    return value


def _end_after_start(model: Any) -> Any:
    if model.end <= model.start:
        raise ValueError("end must be after start")
    return model


class RideRequested(Payload):
    """A rider (from the app or the simulator) asks for a ride between two points."""

    event_type: ClassVar[str] = "mobility.ride.requested"
    request_id: str = Field(min_length=1, max_length=64)
    rider: str = Field(min_length=1, max_length=64)
    origin_lat: float = Field(ge=-90, le=90)
    origin_lon: float = Field(ge=-180, le=180)
    destination_lat: float = Field(ge=-90, le=90)
    destination_lon: float = Field(ge=-180, le=180)
    earliest_pickup: datetime
    latest_arrival: datetime
    party: int = Field(default=1, ge=1, le=8)
    wheelchair: bool = False

    _tz = field_validator("earliest_pickup", "latest_arrival")(_aware)

    @model_validator(mode="after")
    def _order(self) -> RideRequested:
        if self.latest_arrival <= self.earliest_pickup:
            raise ValueError("latest_arrival must be after earliest_pickup")
        return self

    def key(self) -> str:
        return self.request_id


class RideAnswered(Payload):
    """The answer the rider sees: accepted with a pick-up window and a fare, or declined with the reason
    and the nearest alternative."""

    event_type: ClassVar[str] = "mobility.ride.answered"
    request_id: str
    rider: str
    accepted: bool
    vehicle: str | None = None
    pickup_from: datetime | None = None
    pickup_until: datetime | None = None
    planned_dropoff: datetime | None = None
    fare_yen: int | None = None
    reason: str = ""
    alternative: str = ""
    alternative_pickup: datetime | None = None

    def key(self) -> str:
        return self.request_id


class PlannedStop(Payload):
    """One stop of a vehicle's plan (not an event on its own)."""

    event_type: ClassVar[str] = "mobility.stop"
    request_id: str
    kind: Literal["pickup", "dropoff"]
    lat: float
    lon: float
    planned_at: datetime
    window_from: datetime          # the promised window (pick-up) or the latest arrival (drop-off)
    window_until: datetime
    seats: int = Field(ge=1)
    service_s: int = Field(ge=0)
    max_ride_s: int = Field(ge=0)
    # "delivery": a delivery round the vehicle drives for logistics between rides (the pick-up is its start at
    # the depot, its service the whole round; the drop-off is its return), not a rider.
    purpose: Literal["ride", "delivery"] = "ride"


class VehiclePlanned(Payload):
    """A vehicle's whole state and plan from now on; the latest revision per vehicle is what it drives
    (and what the dispatcher restores after a restart)."""

    event_type: ClassVar[str] = "mobility.vehicle.planned"
    vehicle: str
    stops: tuple[PlannedStop, ...]
    revision: int
    reason: Literal["insertion", "reoptimisation"]
    at_lat: float
    at_lon: float
    free_at: datetime
    onboard: tuple[str, ...] = ()   # "request:seats:picked-up second" of each rider aboard
    locked: bool = False            # already driving to its first stop

    def key(self) -> str:
        return self.vehicle


class RideCompleted(Payload):
    """A rider was dropped off: the fare is due from the rider and the payout to the vehicle's operator."""

    event_type: ClassVar[str] = "mobility.ride.completed"
    request_id: str
    rider: str
    vehicle: str
    operator: str
    fare_yen: int = Field(ge=0)
    payout_yen: int = Field(ge=0)
    picked_up_at: datetime | None = None
    dropped_off_at: datetime

    def key(self) -> str:
        return self.request_id


class OfferedWindow(Payload):
    """One idle stretch of a ride vehicle (not an event on its own): empty from ``start`` at ``from_*`` until it
    must leave for its next rider, who is at ``to_*`` (the same place when nothing follows)."""

    event_type: ClassVar[str] = "mobility.window"
    start: datetime
    end: datetime
    from_lat: float = Field(ge=-90, le=90)
    from_lon: float = Field(ge=-180, le=180)
    to_lat: float = Field(ge=-90, le=90)
    to_lon: float = Field(ge=-180, le=180)

    _tz = field_validator("start", "end")(_aware)

    _order = model_validator(mode="after")(_end_after_start)


class VehicleWindowsOffered(Payload):
    """The hours a ride vehicle with cargo room lends to deliveries, as its plan stands: its idle stretches
    inside the fleet's lending hours. The latest offer per vehicle replaces the ones before; none is a promise
    (a round is held only by a FleetJobAnswered)."""

    event_type: ClassVar[str] = "mobility.vehicle.windows_offered"
    vehicle: str = Field(min_length=1, max_length=64)
    operator: str = Field(min_length=1, max_length=64, description="paid the delivery payouts of its rounds")
    capacity_kg: float = Field(gt=0, le=2_000)
    max_parcels: int = Field(ge=1, le=500)
    windows: tuple[OfferedWindow, ...] = ()

    def key(self) -> str:
        return self.vehicle


class FleetJobRequested(Payload):
    """Logistics asks for a delivery round on a ride vehicle: at the depot at ``start`` to load, back there at
    ``end``; the dispatcher holds it in the vehicle's plan (no rider in between) or says why not."""

    event_type: ClassVar[str] = "mobility.fleet_job.requested"
    job_id: str = Field(min_length=1, max_length=64)
    vehicle: str = Field(min_length=1, max_length=64)
    depot_lat: float = Field(ge=-90, le=90)
    depot_lon: float = Field(ge=-180, le=180)
    start: datetime
    end: datetime
    parcels: int = Field(default=0, ge=0, le=500)
    weight_kg: float = Field(default=0, ge=0, le=2_000)
    distance_m: int = Field(default=0, ge=0, le=2_000_000)

    _tz = field_validator("start", "end")(_aware)

    _order = model_validator(mode="after")(_end_after_start)

    def key(self) -> str:
        return self.job_id


class FleetJobCancelled(Payload):
    """Logistics gives back a round it holds on a ride vehicle before the round starts (its parcels all failed):
    the dispatcher takes it out of the vehicle's plan, and the hours are offered again."""

    event_type: ClassVar[str] = "mobility.fleet_job.cancelled"
    job_id: str = Field(min_length=1, max_length=64)
    vehicle: str = Field(min_length=1, max_length=64)
    reason: str = Field(default="", max_length=200)

    def key(self) -> str:
        return self.job_id


class FleetJobAnswered(Payload):
    """The dispatcher's answer to a FleetJobRequested: held in the vehicle's plan, or refused with the reason."""

    event_type: ClassVar[str] = "mobility.fleet_job.answered"
    job_id: str
    vehicle: str
    accepted: bool
    start: datetime
    end: datetime
    reason: str = ""

    def key(self) -> str:
        return self.job_id


class MemberCostShare(Payload):
    """One member's part of a co-owned fleet's period (not an event on its own): use, energy, amounts in sen."""

    event_type: ClassVar[str] = "mobility.cost_share.member"
    member: str = Field(min_length=1, max_length=64)
    use_min: int = Field(ge=0)
    distance_m: int = Field(ge=0)
    wh: int = Field(ge=0)
    renewable_wh: int = Field(ge=0)
    instalment_sen: int = Field(ge=0)
    insurance_sen: int = Field(ge=0)
    energy_sen: int = Field(ge=0)
    fleet_energy_sen: int = Field(ge=0)
    credit_sen: int = Field(ge=0)

    @model_validator(mode="after")
    def _renewable(self) -> MemberCostShare:
        if self.renewable_wh > self.wh:
            raise ValueError("renewable_wh must not exceed wh")
        return self


class CostShareSettled(Payload):
    """A co-owning group's split of one period: the cars' instalments and insurance, the energy, and what rides
    and deliveries paid for the cars' remaining hours, per member; settlement books each member's bill once
    per group and period."""

    event_type: ClassVar[str] = "mobility.cost_share.settled"
    group: str = Field(min_length=1, max_length=64)
    period: str = Field(min_length=1, max_length=32, description="e.g. 2026-11; one split per group and period")
    period_end: datetime
    instalment_sen: int = Field(ge=0)
    insurance_sen: int = Field(ge=0)
    energy_sen: int = Field(ge=0, description="the members' own energy; the fleet's is fleet_energy_sen")
    fleet_energy_sen: int = Field(ge=0)
    credit_sen: int = Field(ge=0, description="what rides and deliveries paid for the remaining hours")
    members: tuple[MemberCostShare, ...] = Field(min_length=1)

    _tz = field_validator("period_end")(_aware)

    @model_validator(mode="after")
    def _sums(self) -> CostShareSettled:
        names = [m.member for m in self.members]
        if len(set(names)) != len(names):
            raise ValueError("members must be named once each")
        for name in ("instalment_sen", "insurance_sen", "energy_sen", "fleet_energy_sen", "credit_sen"):
            parts = sum(getattr(m, name) for m in self.members)
            if parts != getattr(self, name):
                raise ValueError(f"members' {name} sum to {parts}, not {getattr(self, name)}")
        return self

    def key(self) -> str:
        return self.group


PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


class CoownedBookingRequested(Payload):
    """A member of a co-owning group books one of the group's cars (``car``: the one they prefer, any free car
    otherwise) for a trip; members book first, the fleet gets the hours they leave."""

    event_type: ClassVar[str] = "mobility.coowned.booking.requested"
    booking_id: str = Field(min_length=1, max_length=64)
    group: str = Field(min_length=1, max_length=64)
    member: str = Field(min_length=1, max_length=64)
    car: str | None = Field(default=None, max_length=64)
    start: datetime
    end: datetime
    distance_m: int = Field(default=0, ge=0, le=2_000_000)

    _tz = field_validator("start", "end")(_aware)

    _order = model_validator(mode="after")(_end_after_start)

    def key(self) -> str:
        return self.group


class CoownedBookingAnswered(Payload):
    """The member's answer: the car held for them, or why not and which cars are free then. Also the fleet's
    hold on a car for a ride's trip (``member`` "fleet"), published when the dispatcher accepts the ride."""

    event_type: ClassVar[str] = "mobility.coowned.booking.answered"
    booking_id: str
    group: str
    member: str
    accepted: bool
    car: str | None = None
    start: datetime
    end: datetime
    period: str
    reason: str = ""
    free_cars: tuple[str, ...] = ()
    # The fleet's holds (member "fleet", a ride's trip) have no request: their driving travels here.
    distance_m: int = Field(default=0, ge=0, le=2_000_000)

    def key(self) -> str:
        return self.group


class CoownedBookingCancelled(Payload):
    """A booking given back before it starts (a member's trip called off, or a delivery round of the fleet whose
    parcels all failed before it left): only who booked it may, and only before its start (the envelope's time);
    its hours are free again."""

    event_type: ClassVar[str] = "mobility.coowned.booking.cancelled"
    booking_id: str = Field(min_length=1, max_length=64)
    group: str = Field(min_length=1, max_length=64)
    member: str = Field(min_length=1, max_length=64)
    reason: str = Field(default="", max_length=200)

    def key(self) -> str:
        return self.group


class CoownedUsageRecorded(Payload):
    """What a group car did outside its members' bookings that the month's split needs: energy it was charged
    (``wh``, from the charging service's meter) or a fare it earned as a ride vehicle (``credit_sen``, the
    payout). ``ref`` names the source (a charging transaction or a ride), so a record counts once."""

    event_type: ClassVar[str] = "mobility.coowned.usage.recorded"
    group: str = Field(min_length=1, max_length=64)
    period: str = Field(pattern=PERIOD_PATTERN)
    ref: str = Field(min_length=1, max_length=160)
    car: str = Field(min_length=1, max_length=64)
    at: datetime
    wh: int = Field(default=0, ge=0)
    pv_wh: int = Field(default=0, ge=0)
    credit_sen: int = Field(default=0, ge=0)

    _tz = field_validator("at")(_aware)

    @model_validator(mode="after")
    def _pv(self) -> CoownedUsageRecorded:
        if self.pv_wh > self.wh:
            raise ValueError("pv_wh must not exceed wh")
        return self

    def key(self) -> str:
        return self.group


class CoownedPeriodClosed(Payload):
    """An operator closes a group's period (a calendar month, Japan time): its costs are split and billed,
    and the period takes no more bookings."""

    event_type: ClassVar[str] = "mobility.coowned.period.closed"
    group: str = Field(min_length=1, max_length=64)
    period: str = Field(pattern=PERIOD_PATTERN, description="the month, e.g. 2026-11")

    def key(self) -> str:
        return self.group


REQUESTS: Topic[RideRequested | FleetJobRequested | FleetJobCancelled] = Topic(
    "mobility.requests", key="request or job", payloads=(RideRequested, FleetJobRequested, FleetJobCancelled))
# Answers and completions are keyed by request or job, plans and offers by vehicle: one topic, the latest plan
# (and offer) per vehicle wins.
ASSIGNMENTS: Topic[RideAnswered | VehiclePlanned | RideCompleted | VehicleWindowsOffered | FleetJobAnswered] = Topic(
    "mobility.assignments", key="request, job or vehicle",
    payloads=(RideAnswered, VehiclePlanned, RideCompleted, VehicleWindowsOffered, FleetJobAnswered))

# Bills are kept: a group's splits stay on the topic (settlement books each once, by group and period).
COST_SHARES: Topic[CostShareSettled] = Topic("mobility.cost_shares", key="group", payloads=(CostShareSettled,),
                                             retention_ms=None)

# The group's book is rebuilt from this topic after a restart (requests, answers and closes are kept).
COOWNED: Topic[CoownedBookingRequested | CoownedBookingAnswered | CoownedBookingCancelled | CoownedUsageRecorded
              | CoownedPeriodClosed] = Topic(
    "mobility.coowned", key="group",
    payloads=(CoownedBookingRequested, CoownedBookingAnswered, CoownedBookingCancelled, CoownedUsageRecorded,
              CoownedPeriodClosed),
    retention_ms=None)

TOPICS: tuple[AnyTopic, ...] = (REQUESTS, ASSIGNMENTS, COST_SHARES, COOWNED)
