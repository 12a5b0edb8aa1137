"""The walking engine conserves people, respects jam density, is deterministic, and matches Mesa."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from simulator.demand import generate
from simulator.engine import JAM_DENSITY, RHO_MAX, simulate, speed_factor
from simulator.mesa_baseline import run_mesa
from simulator.scenario import Scenario


def test_speed_falls_with_density():
    """Weidmann's factor is 1 on an empty link, decreasing, and at its floor at jam density."""
    f = speed_factor(np.array([0.0, 0.5, 1.0, 2.0, 4.0, RHO_MAX]))
    assert f[0] == 1.0
    assert (np.diff(f) <= 0).all()
    assert f[-1] == f.min()


def test_gate_flows_equal_station_events(small_demand, net):
    """Every walk from or to a station crosses its gate line once (those cut off at midnight at most once)."""
    res = simulate(small_demand.trips, small_demand.paths, net)
    t = small_demand.trips
    done = (res.arrive >= 0) & (res.depart >= 0)
    link = net.chokepoints["odakyu_gates"]
    uses = (t.alight_line == 0) | (t.board_line == 0)
    crossed = res.flow[:, link].sum()
    assert (uses & done).sum() <= crossed <= (uses & (res.depart >= 0)).sum()
    assert crossed >= 0.99 * uses.sum()
    assert done.mean() > 0.98


def test_same_seed_same_day_other_seed_other_day(net):
    """The same scenario gives identical arrays; another seed gives a different day."""
    s = Scenario(name="det", seed=9, population={"agents": 3000})
    a = generate(s, net)
    b = generate(s, net)
    ra, rb = simulate(a.trips, a.paths, net), simulate(b.trips, b.paths, net)
    assert np.array_equal(ra.flow, rb.flow) and np.array_equal(ra.occupancy, rb.occupancy)
    c = generate(s.with_overrides(seed=10), net)
    rc = simulate(c.trips, c.paths, net)
    assert not np.array_equal(ra.flow, rc.flow)


def test_crowd_never_exceeds_jam_density_by_much(net):
    """With everyone released in the same minute, no link holds more than the jam density (plus one step)."""
    d = generate(Scenario(name="crush", population={"agents": 6000}), net)
    fixed = d.trips.depart >= 0
    d.trips.depart[fixed] = 480
    res = simulate(d.trips, d.paths, net)
    assert res.density(net).max() <= JAM_DENSITY * 1.05
    late = res.depart[fixed & (d.trips.prev < 0)]
    assert late.max() > 480  # the gate line meters people out over several minutes


def test_mesa_implementation_gives_identical_flows(net):
    """The Mesa model of the same rules yields the same flows, arrivals and walker-minutes, even in a crush."""
    logging.getLogger("MESA").setLevel(logging.WARNING)
    d = generate(Scenario(name="mesa", seed=4, population={"agents": 1500}), net)
    fixed = d.trips.depart >= 0
    d.trips.depart[fixed] = 480 + d.trips.depart[fixed] % 3
    res = simulate(d.trips, d.paths, net)
    model = run_mesa(d.trips, d.paths, net)
    assert np.array_equal(res.flow, model.flow)
    assert np.array_equal(res.arrive, model.arrive)
    assert res.active_agent_steps == model.active_steps


def test_watchers_see_every_minute_of_every_walk_and_can_stop_it(small_demand, net):
    """watch_minutes reports each simulated minute of each simulate() inside the block (nested watchers all
    hear them), stops with the block, and a listener that raises stops the walk where it is."""
    from simulator.engine import watch_minutes

    outer: list[int] = []
    inner: list[int] = []
    with watch_minutes(outer.append):
        simulate(small_demand.trips, small_demand.paths, net)
        with watch_minutes(inner.append):
            simulate(small_demand.trips, small_demand.paths, net)
    assert outer == list(range(1440)) * 2 and inner == list(range(1440))
    simulate(small_demand.trips, small_demand.paths, net)  # outside the block: nobody is told
    assert len(outer) == 2 * 1440

    class Stop(Exception):
        pass

    def stop_at_noon(t: int) -> None:
        if t == 720:
            raise Stop()

    seen: list[int] = []
    with watch_minutes(seen.append), watch_minutes(stop_at_noon), pytest.raises(Stop):
        simulate(small_demand.trips, small_demand.paths, net)
    assert seen[-1] == 720
