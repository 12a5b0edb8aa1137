"""Co-owned cars in the dispatcher's core: a car leaves its carport for each ride's trip and is back (with the
turnaround) before anyone takes it again, and every trip lies inside the hours its members left free."""

from __future__ import annotations

import numpy as np

from services.mobility.domain.dispatcher import Dispatcher
from services.mobility.domain.fleet import RideRequest, Vehicle, advance, simulate
from services.mobility.domain.reopt import reoptimise

H = 3600


def line(n: int = 6, leg: int = 300) -> np.ndarray:
    """Places 0..n-1 on a line, ``leg`` seconds apart."""
    idx = np.arange(n)
    return (np.abs(idx[:, None] - idx[None, :]) * leg).astype(np.int64)


def coowned(windows: tuple[tuple[int, int], ...], free_at: int = 0) -> Vehicle:
    return Vehicle("ev", 0, free_at, 4, 24 * H, kind="coowned", home=0, windows=windows, turnaround=900)


def test_a_trip_runs_from_leaving_the_carport_to_being_back_and_must_fit_a_window():
    """The car waits at home, leaves in time for the pick-up, drives back once empty; the trip (whole minutes) is
    what the book holds, and a trip that runs into a member's hours is infeasible."""
    travel = line()
    d = Dispatcher([coowned(((8 * H, 10 * H),))], travel)
    answer = d.decide(RideRequest("r1", 2, 4, 9 * H, 9 * H + 1800), now=7 * H)
    assert answer.accepted and answer.planned_pickup == 9 * H
    car = d.fleet[0]
    sched = simulate(car, car.stops, travel, d.max_ride)
    # leaves home 600 s before the pick-up; drop-off at 9:11, back home (1200 s) at 9:32
    assert sched.trips == ((9 * H - 600, 9 * H + 60 + 600 + 60 + 1200),)
    # the same ride when a member holds the car from 9:20 (the window ends there): declined
    d2 = Dispatcher([coowned(((8 * H, 9 * H + 20 * 60),))], travel)
    refused = d2.decide(RideRequest("r1", 2, 4, 9 * H, 9 * H + 1800), now=7 * H)
    assert not refused.accepted and d2.fleet[0].stops == []


def test_a_member_held_car_leaves_the_ride_to_another_vehicle():
    travel = line()
    taxi = Vehicle("taxi", 5, 0, 4, 12 * H)  # its shift ends at noon
    d = Dispatcher([coowned(((12 * H, 20 * H),)), taxi], travel)  # a member has the car until noon
    answer = d.decide(RideRequest("r1", 1, 2, 9 * H, 9 * H + 3600), now=7 * H)
    assert answer.accepted and answer.vehicle == "taxi"
    later = d.decide(RideRequest("r2", 1, 2, 13 * H, 13 * H + 3600), now=7 * H)
    assert later.accepted and later.vehicle == "ev"  # free then


def test_trips_keep_the_turnaround_and_the_car_is_home_after_a_ride():
    """A second ride is its own trip, after the first one's return and the turnaround; once driven, the car is at
    its carport and free only after the turnaround."""
    travel = line()
    d = Dispatcher([coowned(((8 * H, 12 * H),))], travel)
    assert d.decide(RideRequest("r1", 1, 2, 9 * H, 9 * H + 1800), now=7 * H).accepted
    second = d.decide(RideRequest("r2", 1, 2, 9 * H + 900, 9 * H + 3 * 1800), now=7 * H)
    car = d.fleet[0]
    trips = simulate(car, car.stops, travel, d.max_ride).trips
    assert second.accepted and len(trips) == 2 and trips[1][0] >= trips[0][1] + 900
    advance(car, 9 * H + 1200, travel, d.max_ride)  # r1 is dropped off by then
    assert car.place == 0 and car.free_at == trips[0][1] + 900


def test_reoptimisation_leaves_a_coowned_cars_plan_as_it_is():
    """Its trip is booked in its members' book: re-planning must not move it, even to a nearer vehicle."""
    travel = line()
    taxi = Vehicle("taxi", 1, 0, 4, 24 * H)
    d = Dispatcher([coowned(((8 * H, 12 * H),)), taxi], travel)
    taxi.free_at = 11 * H  # busy: the ride goes to the co-owned car
    assert d.decide(RideRequest("r1", 1, 2, 9 * H, 9 * H + 1800), now=7 * H).vehicle == "ev"
    taxi.free_at = 7 * H  # free again, and nearer: a re-planning of every vehicle would move the ride
    before = list(d.fleet[0].stops)
    reoptimise(d, 7 * H, 0.5)
    assert d.fleet[0].stops == before and taxi.stops == [] and d.promise_violations() == []
