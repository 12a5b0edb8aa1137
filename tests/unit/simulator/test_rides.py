"""Walkers who ride instead: the choice (short walks never ride, long ones more often, same seed same riders),
and the day without those walks (the walkways lose exactly their steps, the KPIs still count the people)."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.demand import generate
from simulator.engine import simulate
from simulator.kpis import kpi_rows
from simulator.rides import choose, walks_left
from simulator.run import run_scenario
from simulator.scenario import Scenario


def _scenario(seed: int = 5, agents: int = 6000, **rides: object) -> Scenario:
    return Scenario(name="rides", seed=seed, population={"agents": agents}, rides=rides)


@pytest.fixture(scope="module")
def day(net):
    s = _scenario()
    return s, generate(s, net)


def test_short_walks_never_ride(day, net):
    s, demand = day
    choice = choose(s, demand, net)
    length = demand.paths.length_m[demand.trips.path]
    assert choice.ride.any()
    assert (length[choice.ride] >= s.rides.min_distance_m).all()
    assert (choice.p_ride[length < s.rides.min_distance_m] == 0).all()
    none = choose(s.with_overrides(rides={"min_distance_m": 5000}), demand, net)
    assert not none.ride.any()


def test_longer_walks_ride_more(day, net):
    """Among walks long enough to ride, the longest third rides far more often than the shortest third."""
    s, demand = day
    choice = choose(s, demand, net)
    length = demand.paths.length_m[demand.trips.path]
    eligible = np.flatnonzero(choice.eligible)
    low, high = np.quantile(length[eligible], [1 / 3, 2 / 3])
    short = choice.ride[eligible][length[eligible] <= low].mean()
    long = choice.ride[eligible][length[eligible] >= high].mean()
    assert long > 2 * short
    assert np.corrcoef(choice.walk_min[eligible], choice.p_ride[eligible])[0, 1] > 0.5


def test_a_dearer_ride_is_taken_less(day, net):
    s, demand = day
    cheap = choose(s, demand, net)
    dear = choose(s.with_overrides(rides={"base_fare_yen": 600}), demand, net)
    assert dear.ride.sum() < cheap.ride.sum()
    assert not (dear.ride & ~cheap.ride).any()  # the same draws: a dearer ride only loses riders


def test_same_seed_same_riders(day, net):
    s, demand = day
    a, b = choose(s, demand, net), choose(s, demand, net)
    assert np.array_equal(a.ride, b.ride)
    other = choose(s.with_overrides(seed=6), demand, net)
    assert not np.array_equal(a.ride, other.ride)


def test_rides_disabled_leave_the_day_as_it_was(net):
    """With rides off, run_scenario moves exactly the walks the population makes, as before rides existed."""
    s = _scenario(agents=3000, enabled=False)
    sim = run_scenario(s, network=net)
    demand = generate(s, net)
    plain = simulate(demand.trips, demand.paths, net)
    assert np.array_equal(sim.result.flow, plain.flow)
    assert sim.kpis["rides"] == 0 and sim.kpis["trips"] == len(demand.trips)
    assert sim.kpis["rides_enabled"] is False


def test_a_leg_after_a_ride_is_still_walked_and_linked(day, net):
    """Taking rides out keeps every person's legs linked; a leg that followed a ridden one after a dwell starts
    at the ride's arrival plus the dwell."""
    s, demand = day
    choice = choose(s, demand, net)
    left = walks_left(demand, choice)
    t = left.trips
    assert len(t) == len(demand.trips) - int(choice.ride.sum())
    assert left.rides is not None and len(left.rides) == int(choice.ride.sum())
    linked = np.flatnonzero(t.next >= 0)
    assert (t.prev[t.next[linked]] == linked).all() and (t.agent[t.next[linked]] == t.agent[linked]).all()
    assert ((t.depart >= 0) | (t.prev >= 0)).all()  # nothing waits for a leg that is no longer walked
    old = demand.trips
    second = np.flatnonzero((old.prev >= 0) & (old.depart < 0) & choice.ride[np.maximum(old.prev, 0)] & ~choice.ride)
    assert len(second)
    kept = np.cumsum(~choice.ride) - 1
    first = old.prev[second]
    arrive = choice.depart[first] + np.ceil(choice.ride_min[first])
    assert np.array_equal(t.depart[kept[second]], (arrive + 1 + old.dwell[second]).astype(t.depart.dtype))


def test_ridden_walks_leave_the_walkways(net):
    """The walkways carry fewer people by the ridden walks' steps, and the KPIs still count every person."""
    on = run_scenario(_scenario(agents=6000), network=net)
    off = run_scenario(_scenario(agents=6000, enabled=False), network=net)
    assert on.rides is not None and on.population is not None and on.demand.rides is not None
    rides = on.kpis["rides"]
    assert rides > 50 and rides == len(on.population.trips) - len(on.demand.trips) == on.kpis["walks_replaced"]
    steps = on.demand.paths.links[on.demand.rides.path]
    ridden_steps = int((steps >= 0).sum())
    dropped = int(off.result.flow.sum() - on.result.flow.sum())
    assert dropped == pytest.approx(ridden_steps, rel=0.005)
    for zone, link in net.chokepoints.items():
        crossing = int((steps == link).sum())
        assert off.result.flow[:, link].sum() - on.result.flow[:, link].sum() == pytest.approx(crossing, abs=3), zone
    assert on.kpis["station_events"] == off.kpis["station_events"]  # a rider still takes the train
    assert on.kpis["agents"] == off.kpis["agents"]
    assert on.kpis["ride_share"] == pytest.approx(rides / len(on.population.trips), abs=1e-4)
    assert on.kpis["ride_minutes_saved_mean"] > 0
    assert abs(on.kpis["footfall_total"] - off.kpis["footfall_total"]) <= 0.01 * off.kpis["footfall_total"]
    rows = {r.label: r.value for r in kpi_rows(on.kpis)}
    assert rows["rides instead of walks"] == rides and rows["  walks replaced"] == rides


def test_the_footfall_figure_counts_visitors_who_came_by_ride(net):
    """The report's arrivals per hour add up to the footfall KPI, rides included."""
    from simulator.figures import footfall_figure

    sim = run_scenario(_scenario(agents=6000, min_distance_m=300), network=net)
    assert sim.demand.rides is not None and (sim.demand.rides.dest_mall >= 0).sum() > 20
    fig = footfall_figure(sim)
    totals = [int(line.get_ydata().sum()) for line in fig.axes[0].lines]
    assert sorted(totals) == sorted(sim.kpis["footfall"].values())
