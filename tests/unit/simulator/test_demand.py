"""The synthetic population reproduces the ridership inputs and keeps trips consistent."""

from __future__ import annotations

import numpy as np

from simulator.demand import DAY_MIN, PURPOSES, generate, train_times
from simulator.ridership_sales import shopping_share
from simulator.scenario import Scenario


def test_station_events_match_ridership_at_full_scale(net):
    """At scale 1, boardings plus alightings per line equal the inputs (Odakyu, Sotetsu, JR) within 0.1 %."""
    s = Scenario(name="full")
    events = generate(s, net).trips.station_events()
    for line, target in (("odakyu", 132_467), ("sotetsu", 110_909), ("jr", 30_000)):
        assert abs(events[line] - target) <= 0.001 * target


def test_station_events_scale_with_population(net):
    """Asking for N agents scales every line's events by the same factor."""
    d = generate(Scenario(name="half", population={"agents": 60_000}), net)
    assert abs(d.trips.n_agents - 60_000) <= 60
    events = d.trips.station_events()
    assert abs(events["odakyu"] / 132_467 - d.scale) < 0.01
    assert abs(events["sotetsu"] / 110_909 - d.scale) < 0.01


def test_shopping_share_follows_vinawalk_calibration(net):
    """Shoppers' share of a line's non-transfer events is uplift/(1+uplift) from the 2002 ViNA WALK opening."""
    d = generate(Scenario(name="shares", transfers={"odakyu_sotetsu": 0, "odakyu_jr": 0, "sotetsu_jr": 0}), net)
    t = d.trips
    shop = t.purpose == PURPOSES.index("shopping")
    jr = (t.alight_line == 2) | (t.board_line == 2)
    share = (shop & jr).sum() / jr.sum()
    assert abs(share - shopping_share("jr")) < 0.005
    assert abs(shopping_share("odakyu") - 0.3 / 1.3) < 1e-12


def test_alighting_walks_follow_trains(net):
    """A walk out of the gates starts 1-3 minutes after a train of that line stops."""
    s = Scenario(name="tt", population={"agents": 5000})
    t = generate(s, net).trips
    trains = train_times(s, "odakyu")
    rows = (t.alight_line == 0) & (t.depart >= 0) & (t.prev < 0)
    gap = t.depart[rows][:, None] - trains[None, :]
    assert ((gap >= 1) & (gap <= 3)).any(axis=1).all()


def test_trip_chains_are_consistent(small_demand):
    """Second legs reverse the first, start after it, and every walk has a path of the right ends."""
    t = small_demand.trips
    first = np.flatnonzero(t.next >= 0)
    second = t.next[first]
    assert (t.origin[second] == t.dest[first]).all() and (t.dest[second] == t.origin[first]).all()
    fixed = t.depart[second] >= 0
    assert (t.depart[second][fixed] > t.depart[first][fixed]).all()
    assert ((t.depart >= -1) & (t.depart < DAY_MIN)).all()
    assert (t.dwell[second][~fixed] >= 10).all()
    net_links = small_demand.paths.links
    assert (net_links[t.path, 0] >= 0).all()


def test_peaks_on_a_weekday_are_morning_and_evening(net):
    """Gate exits on a weekday peak between 7 and 9 and are busier than at 3 a.m. or midday."""
    t = generate(Scenario(name="peaks", population={"agents": 20_000}), net).trips
    hours = t.depart[(t.alight_line >= 0) & (t.depart >= 0)] // 60
    by_hour = np.bincount(hours, minlength=24)
    assert 7 <= int(np.argmax(by_hour[:12])) <= 9
    assert by_hour[8] > by_hour[12] > by_hour[3]
