"""The mobility service's handlers on the Ebina drive network, with a hand-set clock (no broker)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.mobility.service import MobilityService
from services.mobility.settings import TOKYO
from shared.contracts.base import Envelope
from shared.contracts.mobility import (
    ASSIGNMENTS,
    FleetJobAnswered,
    RideAnswered,
    RideCompleted,
    RideRequested,
    VehiclePlanned,
    VehicleWindowsOffered,
)
from shared.roads import load_drive_network
from shared.runtime import Service, ignore


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def network():
    return load_drive_network()


def ride(rid: str, start: datetime, minutes: int = 60, **kw) -> RideRequested:
    """LaLaport (west) to the car-share station LO41 near the east exit, within ``minutes``."""
    base = dict(request_id=rid, rider=f"rider-{rid}", origin_lat=35.45528, origin_lon=139.38917,
                destination_lat=35.451183, destination_lon=139.391086, earliest_pickup=start,
                latest_arrival=start + timedelta(minutes=minutes))
    return RideRequested(**{**base, **kw})


def send(svc: MobilityService, payload) -> list:
    return [o.payload for o in svc.on_request(Envelope.wrap(payload, "test"), payload)]


def test_ride_is_answered_planned_completed_and_priced(network):
    """Accepted with a window and a fare, the vehicle's plan published; once driven, the completed ride
    carries the fare and the operator's payout."""
    clock = Clock(datetime(2026, 12, 1, 8, 0, tzinfo=TOKYO))
    svc = MobilityService(network, clock=clock)
    out = send(svc, ride("r1", clock.now + timedelta(minutes=5)))
    answer = next(p for p in out if isinstance(p, RideAnswered))
    assert answer.accepted and answer.fare_yen > 0, answer
    assert clock.now + timedelta(minutes=5) <= answer.pickup_from <= answer.pickup_until
    plan = next(p for p in out if isinstance(p, VehiclePlanned))
    assert plan.vehicle == answer.vehicle and [s.kind for s in plan.stops] == ["pickup", "dropoff"]
    assert send(svc, ride("r1", clock.now + timedelta(minutes=5))) == [answer]  # redelivery: same answer
    clock.now += timedelta(hours=2)
    done = [o.payload for o in svc.tick() if isinstance(o.payload, RideCompleted)]
    assert [d.request_id for d in done] == ["r1"]
    assert done[0].fare_yen == answer.fare_yen and 0 < done[0].payout_yen < done[0].fare_yen
    assert [o for o in svc.tick() if isinstance(o.payload, RideCompleted)] == []  # booked once


def test_declined_ride_names_reason_and_an_alternative(network):
    """A ride that must arrive before the direct drive allows is declined with the rule it breaks."""
    clock = Clock(datetime(2026, 12, 1, 8, 0, tzinfo=TOKYO))
    svc = MobilityService(network, clock=clock)
    answer = send(svc, ride("r2", clock.now, minutes=1))[0]
    assert not answer.accepted and "direct ride" in answer.reason


def test_restart_restores_the_fleet_from_published_plans(network):
    """A new instance fed the published assignments has the same plans and promises, and answers a
    redelivered request as before."""
    clock = Clock(datetime(2026, 12, 1, 8, 0, tzinfo=TOKYO))
    first = MobilityService(network, clock=clock)
    published = []
    for k in range(6):
        published += send(first, ride(f"q{k}", clock.now + timedelta(minutes=10 + 3 * k)))
    second = MobilityService(network, clock=clock)
    replay = Service("replay", {ASSIGNMENTS: {RideAnswered: second.on_answer, VehiclePlanned: second.on_plan,
                                              RideCompleted: second.on_completed,
                                              FleetJobAnswered: second.on_job_answer,
                                              VehicleWindowsOffered: ignore}})
    for p in published:
        replay.handle(ASSIGNMENTS, Envelope.wrap(p, "test"), p)
    assert {v.id: v.stops for v in second.dispatcher.fleet} == {v.id: v.stops for v in first.dispatcher.fleet}
    assert set(second.dispatcher.promises) == set(first.dispatcher.promises)
    again = send(second, ride("q0", clock.now + timedelta(minutes=10)))
    assert again == [next(p for p in published if isinstance(p, RideAnswered) and p.request_id == "q0")]
    assert ASSIGNMENTS.name == "mobility.assignments"


def test_a_ride_asked_at_night_is_served_when_the_shift_starts(network):
    """Started at 23:30, the fleet's shift is tomorrow's: a ride asked for tonight-or-tomorrow is picked up
    from 06:00, not declined for want of a shift."""
    clock = Clock(datetime(2026, 12, 1, 23, 30, tzinfo=TOKYO))
    svc = MobilityService(network, clock=clock)
    answer = send(svc, ride("n1", clock.now, minutes=12 * 60))[0]
    assert answer.accepted, answer
    planned = answer.pickup_from + timedelta(minutes=5)  # the window told is the planned time +- 5 min
    assert datetime(2026, 12, 2, 6, 0, tzinfo=TOKYO) <= planned <= datetime(2026, 12, 2, 7, 0, tzinfo=TOKYO)


def test_the_fleet_works_again_the_next_day(network):
    """A service running for days: after yesterday's shift ended, today's morning ride is accepted."""
    clock = Clock(datetime(2026, 12, 1, 8, 0, tzinfo=TOKYO))
    svc = MobilityService(network, clock=clock)
    assert send(svc, ride("d1", clock.now + timedelta(minutes=5)))[0].accepted
    clock.now = datetime(2026, 12, 2, 9, 0, tzinfo=TOKYO)
    list(svc.tick())
    answer = send(svc, ride("d2", clock.now + timedelta(minutes=5)))[0]
    assert answer.accepted and answer.pickup_from.astimezone(TOKYO).day == 2, answer


def test_a_fast_clock_can_start_at_a_given_japan_time():
    """CITYMATCH_MOBILITY_CLOCK_START pins the fast clock's start, whatever the hour it runs at."""
    from datetime import time

    from shared.clock import scaled_clock

    clock = scaled_clock(120, time(7, 0))
    start = clock().astimezone(TOKYO)
    assert (start.hour, start.minute) == (7, 0) and start.date() == datetime.now(TOKYO).date()
    assert clock() >= start


def test_a_ride_finished_before_the_next_request_is_still_billed(network):
    """A decision moves the fleet to the present too: a ride dropped off before the next request is decided is
    completed (and its fare billed) by the next tick all the same, once."""
    clock = Clock(datetime(2026, 12, 1, 8, 0, tzinfo=TOKYO))
    svc = MobilityService(network, clock=clock)
    first = next(p for p in send(svc, ride("b1", clock.now + timedelta(minutes=5))) if isinstance(p, RideAnswered))
    clock.now = first.planned_dropoff + timedelta(minutes=5)
    assert next(p for p in send(svc, ride("b2", clock.now + timedelta(minutes=5)))
                if isinstance(p, RideAnswered)).accepted
    done = [o.payload for o in svc.tick() if isinstance(o.payload, RideCompleted)]
    assert [d.request_id for d in done] == ["b1"] and done[0].fare_yen == first.fare_yen
    assert [o for o in svc.tick() if isinstance(o.payload, RideCompleted)] == []
