"""Streaming dispatch: answers to riders, promises kept by re-optimisation, greedy baseline's limits."""

from __future__ import annotations

import numpy as np
import pytest

from services.mobility.domain import synthetic as syn
from services.mobility.domain.check import check_plan
from services.mobility.domain.dispatcher import Dispatcher
from services.mobility.domain.fleet import Limits, RideRequest, Vehicle, simulate
from services.mobility.domain.reopt import build_model, reoptimise


@pytest.fixture(scope="module")
def town():
    return syn.city(120, seed=11, size_m=5000)


def test_accepted_rider_gets_a_window_inside_the_asked_one_and_a_fare(town):
    """An accepted answer names the vehicle, a pick-up window within the request's and a positive fare."""
    _, travel, dist = town
    d = Dispatcher([Vehicle("v0", 0, 0, 4, 20_000)], travel, dist)
    req = RideRequest("a", 1, 2, 600, 600 + int(travel[1, 2]) + 1200)
    answer = d.decide(req, now=0)
    assert answer.accepted and answer.vehicle == "v0" and answer.fare_yen > 0
    lo, hi = answer.pickup_window
    assert 600 <= lo <= answer.planned_pickup <= hi <= req.latest_arrival - travel[1, 2]
    assert d.decide(req, now=0).accepted  # redelivered: same answer, no second seat
    assert sum(1 for s in d.fleet[0].stops if s.request == "a") == 2


def test_declined_rider_hears_why_and_the_next_possible_pick_up(town):
    """With the only vehicle busy, a rider is declined with a reason and a later pick-up the fleet can offer."""
    _, travel, dist = town
    d = Dispatcher([Vehicle("v0", 0, 0, 1, 30_000)], travel, dist)
    far = int(np.argmax(travel[0]))
    assert d.decide(RideRequest("a", 0, far, 0, int(travel[0, far]) + 300), now=0).accepted
    answer = d.decide(RideRequest("b", 0, far, 0, int(travel[0, far]) + 300), now=0)
    assert not answer.accepted and "time window" in answer.reason
    assert answer.alternative_pickup is not None and answer.alternative_pickup > 0


def test_impossible_requests_are_declined_with_the_rule_broken(town):
    """A party no vehicle seats, a wheelchair with no wheelchair place, an arrival before the direct ride."""
    _, travel, dist = town
    d = Dispatcher([Vehicle("v0", 0, 0, 4, 30_000)], travel, dist)
    assert "no vehicle has room" in d.decide(RideRequest("a", 1, 2, 0, 9000, party=6), 0).reason
    assert "wheelchair" in d.decide(RideRequest("b", 1, 2, 0, 9000, wheelchair=True), 0).reason
    assert "direct ride" in d.decide(RideRequest("c", 1, 2, 0, 10), 0).reason


def test_reoptimisation_keeps_every_promise_and_every_rule(town):
    """Over a stream with re-optimisation every 15 minutes, no promise is ever broken, and each re-planned
    fleet passes the independent checker."""
    _, travel, dist = town
    reqs = syn.requests(150, 120, travel, seed=5, day_start=7 * 3600, day_end=10 * 3600)
    d = Dispatcher(syn.fleet(8, 120, seed=6, start=7 * 3600, end=12 * 3600), travel, dist)
    next_reopt, adopted = 0, 0
    for req in reqs:
        now = syn.made_at(req)
        if now >= next_reopt:
            model = build_model(d)
            outcome = reoptimise(d, now, seconds=0.3)
            adopted += outcome.adopted
            assert d.promise_violations() == []
            assert check_plan(model.problem, model.initial).feasible
            after = build_model(d)
            assert check_plan(after.problem, after.initial).feasible
            next_reopt = now + 900
        d.decide(req, now)
        assert d.promise_violations() == []
    d.advance(10**9)
    assert d.promise_violations() == []
    assert adopted >= 1
    served = {s.request for _, s, _ in d.completed if s.kind == "dropoff"}
    assert served == set(d.promises)


def test_greedy_baseline_never_shares_a_ride(town):
    """The nearest-vehicle baseline appends to the end of a plan: it never puts a pick-up before a drop-off
    of another rider."""
    _, travel, dist = town
    reqs = syn.requests(60, 120, travel, seed=8, day_start=7 * 3600, day_end=8 * 3600)
    d = Dispatcher(syn.fleet(4, 120, seed=9, start=7 * 3600), travel, dist, greedy=True)
    for req in reqs:
        d.decide(req, syn.made_at(req))
        for v in d.fleet:
            aboard = set(v.onboard)
            for s in v.stops:
                if s.kind == "pickup":
                    assert not aboard, "a pick-up planned while another rider is aboard"
                    aboard.add(s.request)
                else:
                    aboard.discard(s.request)


def test_a_rider_aboard_keeps_the_ride_time_it_was_accepted_with():
    """With the ride limit exactly the direct time, the plan stays feasible after the pick-up is done: the
    ride is measured from the end of boarding both before and after (no drift by the boarding time)."""
    x = np.array([0, 300, 900])
    travel = np.abs(x[:, None] - x[None, :]).astype(np.int64)
    tight = Limits(max_ride_factor=1.0, min_ride_slack=0)
    d = Dispatcher([Vehicle("v0", 0, 0, 4, 10_000)], travel, limits=tight)
    assert d.decide(RideRequest("a", 1, 2, 0, 5_000), now=0).accepted
    pickup_end = 300 + tight.service
    d.advance(pickup_end + 1)
    assert d.fleet[0].onboard == {"a": 1}
    assert simulate(d.fleet[0], d.fleet[0].stops, travel, d.max_ride).feasible
    assert d.promise_violations() == []
