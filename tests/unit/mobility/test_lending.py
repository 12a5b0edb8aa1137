"""Ride vehicles lent to deliveries between rides: the idle stretches a plan offers, a round held in the plan
as a job no rider can share, riders planned around it, and re-optimisation keeping it on its vehicle at its
hours."""

from __future__ import annotations

import pytest

from services.mobility.domain import synthetic as syn
from services.mobility.domain.check import check_plan
from services.mobility.domain.dispatcher import Dispatcher
from services.mobility.domain.fleet import RideRequest, Vehicle, simulate
from services.mobility.domain.lending import idle_windows
from services.mobility.domain.reopt import build_model, reoptimise

H = 3600
LEND = (10 * H, 16 * H)


@pytest.fixture(scope="module")
def town():
    return syn.city(60, seed=3, size_m=4000)


def two_vehicles(travel, dist) -> Dispatcher:
    fleet = [Vehicle("s1", 0, 9 * H, 4, 20 * H), Vehicle("s2", 5, 9 * H, 4, 20 * H)]
    return Dispatcher(fleet, travel, dist)


def test_an_idle_vehicle_offers_the_lending_hours_and_a_ride_splits_them(town):
    _, travel, dist = town
    d = Dispatcher([Vehicle("s1", 0, 9 * H, 4, 20 * H)], travel, dist)
    [w] = idle_windows(d.fleet[0], d.travel, d.max_ride, LEND, 2700)
    assert (w.start, w.end, w.start_place, w.end_place) == (10 * H, 16 * H, 0, 0)
    ride = RideRequest("r1", 7, 9, 12 * H, 12 * H + int(travel[7, 9]) + 900)
    assert d.decide(ride, 9 * H).accepted
    before, after = idle_windows(d.fleet[0], d.travel, d.max_ride, LEND, 2700)
    sched = simulate(d.fleet[0], d.fleet[0].stops, travel, d.max_ride)
    assert (before.start, before.start_place, before.end_place) == (10 * H, 0, 7)
    assert before.end == sched.times[0]                    # it must be at the rider's pick-up by then
    assert after.start == sched.times[1] + d.fleet[0].stops[1].service and after.start_place == 9
    assert after.end == 16 * H
    # stretches shorter than the minimum are not offered
    assert idle_windows(d.fleet[0], d.travel, d.max_ride, LEND, 6 * H) == []


def test_a_held_round_takes_every_seat_so_riders_are_planned_around_it(town):
    _, travel, dist = town
    d = two_vehicles(travel, dist)
    assert d.reserve("delivery:x", "s1", 3, 11 * H, 12 * H, now=9 * H) is None
    assert d.reserve("delivery:x", "s1", 3, 11 * H, 12 * H, now=9 * H) is None   # the same job again: held
    assert [s.request for s in d.fleet[0].stops] == ["delivery:x", "delivery:x"]
    # a rider wanting s1's seats during the round gets s2; s1 offers no stretch across the round
    ride = RideRequest("r1", 0, 8, 11 * H + 600, 11 * H + 600 + int(travel[0, 8]) + 900)
    answer = d.decide(ride, 9 * H)
    assert answer.accepted and answer.vehicle == "s2"
    offered = idle_windows(d.fleet[0], d.travel, d.max_ride, LEND, 60)
    assert all(w.end <= 11 * H or w.start >= 12 * H for w in offered)
    # with s2 away on its own round too, the rider is declined rather than squeezed into one
    d2 = two_vehicles(travel, dist)
    assert d2.reserve("delivery:a", "s1", 3, 11 * H, 12 * H, now=9 * H) is None
    assert d2.reserve("delivery:b", "s2", 3, 11 * H, 12 * H, now=9 * H) is None
    assert not d2.decide(ride, 9 * H).accepted


def test_a_round_is_refused_where_riders_need_the_vehicle_or_its_shift_ends(town):
    _, travel, dist = town
    d = two_vehicles(travel, dist)
    ride = RideRequest("r1", 0, 8, 11 * H, 11 * H + int(travel[0, 8]) + 900)
    assert d.decide(ride, 9 * H).vehicle == "s1"
    reason = d.reserve("delivery:x", "s1", 3, 11 * H, 12 * H, now=9 * H)
    assert reason is not None and "riders then" in reason
    assert "shift" in (d.reserve("delivery:y", "s1", 3, 19 * H, 21 * H, now=9 * H) or "")
    assert "past" in (d.reserve("delivery:z", "s1", 3, 8 * H, 9 * H, now=9 * H) or "")
    assert "no vehicle" in (d.reserve("delivery:w", "nope", 3, 13 * H, 14 * H, now=9 * H) or "")
    assert d.jobs == {}
    assert "delivery:x" not in d.max_ride


def test_reoptimisation_keeps_a_round_on_its_vehicle_at_its_hours(town):
    """Riders stream in around two held rounds; every re-optimisation keeps each round on its vehicle, at the
    hours the depot was told, and every promise to a rider."""
    _, travel, dist = town
    fleet = syn.fleet(4, 60, seed=2, start=9 * H, end=18 * H)
    d = Dispatcher(fleet, travel, dist)
    assert d.reserve("delivery:a", fleet[0].id, 3, 11 * H, 12 * H, now=9 * H) is None
    assert d.reserve("delivery:b", fleet[1].id, 3, 11 * H + 1800, 13 * H, now=9 * H) is None
    held = {"delivery:a": (fleet[0].id, 11 * H, 12 * H), "delivery:b": (fleet[1].id, 11 * H + 1800, 13 * H)}
    reqs = syn.requests(60, 60, travel, seed=4, day_start=9 * H, day_end=14 * H)
    next_reopt = 0
    for req in reqs:
        now = syn.made_at(req)
        if now >= next_reopt:
            reoptimise(d, now, seconds=0.2)
            after = build_model(d)
            assert check_plan(after.problem, after.initial).feasible
            next_reopt = now + 1800
        d.decide(req, now)
        assert d.promise_violations() == []
        for job, (vid, start, end) in held.items():
            if now >= end:
                continue
            v = next(x for x in d.fleet if x.id == vid)
            sched = simulate(v, v.stops, travel, d.max_ride)
            times = [t for s, t in zip(v.stops, sched.times, strict=True) if s.request == job]
            if job in v.onboard:  # away on the round: only its return is left
                assert times == [end]
            else:
                assert times == [start, end]
            assert all(s.request != job for x in d.fleet if x.id != vid for s in x.stops)


def test_reoptimisation_does_not_move_a_round_to_a_vehicle_nearer_the_depot(town):
    """The depot was told which vehicle comes: a round stays on it even where another would drive less."""
    _, travel, dist = town
    far = int(travel[3].argmax())
    d = Dispatcher([Vehicle("s1", far, 9 * H, 4, 20 * H), Vehicle("s2", 3, 9 * H, 4, 20 * H)], travel, dist)
    assert d.reserve("delivery:x", "s1", 3, 11 * H, 12 * H, now=9 * H) is None
    reoptimise(d, 9 * H, seconds=0.3)
    assert [s.request for s in d.fleet[0].stops] == ["delivery:x", "delivery:x"] and d.fleet[1].stops == []
