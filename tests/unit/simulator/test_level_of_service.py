"""One level-of-service truth: both Fruin measures per chokepoint, the worse one in the headline with place and time."""

from __future__ import annotations

import numpy as np

from simulator.demand import DAY_MIN
from simulator.engine import EngineResult
from simulator.kpis import chokepoint_los, kpi_rows, worst_level_of_service
from simulator.los import rank
from simulator.run import run_scenario


def _day(net, *, flow: dict[str, tuple[int, int, float]], density: dict[str, tuple[int, int, float]]) -> EngineResult:
    """A made-up day: per chokepoint, (first minute, minutes, persons/m/min) of flow and (..., persons/m2) of room."""
    f = np.zeros((DAY_MIN, net.n_links), dtype=np.int32)
    occ = np.zeros((DAY_MIN, net.n_links), dtype=np.float32)
    for key, (start, minutes, per_m) in flow.items():
        link = net.chokepoints[key]
        f[start:start + minutes, link] = round(per_m * net.link_width_m[link])
    for key, (start, minutes, p_m2) in density.items():
        link = net.chokepoints[key]
        occ[start:start + minutes, link] = p_m2 * net.link_area_m2[link]
    empty = np.zeros(0, dtype=np.int32)
    return EngineResult(flow=f, occupancy=occ, depart=empty, arrive=empty, active_agent_steps=0)


def test_flow_and_space_disagree_and_the_headline_takes_the_worse(net):
    """A queue at the Sotetsu gates (little flow, no room) is E by space though A by flow; the headline says E,
    there, in its 15-minute window, by space, while the Odakyu gates are D by flow only."""
    day = _day(net,
               flow={"sotetsu_gates": (480, 30, 10.0), "odakyu_gates": (420, 20, 55.0)},
               density={"sotetsu_gates": (480, 30, 1.2), "odakyu_gates": (420, 20, 0.4)})
    cps, crowded = chokepoint_los(day, net)
    sotetsu, odakyu = cps["sotetsu_gates"], cps["odakyu_gates"]
    assert (sotetsu["los_flow"], sotetsu["los_space"], sotetsu["los"], sotetsu["los_basis"]) == ("A", "E", "E", "space")
    assert sotetsu["los_window"] == "08:00-08:15"
    assert (odakyu["los_flow"], odakyu["los_space"], odakyu["los"], odakyu["los_basis"]) == ("D", "B", "D", "flow")
    assert odakyu["los_window"] == "07:00-07:15"
    # 15-minute means at D or worse (space under 1.39 m2, flow over 49): Sotetsu 08:08-08:35, Odakyu 07:13-07:20.
    assert (sotetsu["minutes_los_d_or_worse"], odakyu["minutes_los_d_or_worse"]) == (28, 8)
    headline = worst_level_of_service(cps, int(crowded.sum()))
    assert headline["worst_los"] == "E"
    assert (headline["worst_los_where"], headline["worst_los_window"], headline["worst_los_basis"]) == (
        "Sotetsu gate line", "08:00-08:15", "space")
    assert headline["minutes_los_d_or_worse"] == 36


def test_equal_levels_name_both_measures(net):
    """When flow and space give the same level, the report says both measures agree."""
    day = _day(net, flow={"jr_gates": (600, 20, 70.0)}, density={"jr_gates": (600, 20, 1.5)})
    cp = chokepoint_los(day, net)[0]["jr_gates"]
    assert (cp["los_flow"], cp["los_space"], cp["los"], cp["los_basis"]) == ("E", "E", "E", "flow and space")


def test_simulated_day_headline_matches_its_chokepoints():
    """On a simulated day every chokepoint's level is the worse of its two, and the headline the worst of those."""
    kpis = run_scenario("ebina_weekday", agents=6000).kpis
    cps = kpis["chokepoints"]
    for cp in cps.values():
        assert cp["los"] == max(cp["los_flow"], cp["los_space"], key=rank)
    worst = max(cps.values(), key=lambda c: rank(c["los"]))
    assert kpis["worst_los"] == worst["los"]
    assert cps[kpis["worst_los_key"]]["los"] == kpis["worst_los"]
    assert cps[kpis["worst_los_key"]]["los_window"] == kpis["worst_los_window"]
    rows = {r.label: r for r in kpi_rows(kpis)}
    assert rows["worst level of service (Fruin, worse of flow and space)"].value == kpis["worst_los"]
