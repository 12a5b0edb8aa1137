"""The simulator's Python entry point: scenario in, :class:`SimResult` (arrays plus KPIs) out.

With offers, the day is simulated twice from the same population: once without offers (the baseline
that targeting looks at) and once with the accepted changes, so every difference is the offers' doing.
Before either, the walks that become rides (``simulator.rides``) are taken out of what the engine moves;
both passes see the same riders.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from simulator import demand as demand_mod
from simulator.demand import DAY_MIN, Demand
from simulator.engine import EngineResult, simulate
from simulator.geo import OSM_ATTRIBUTION, SCHEMATIC_LABEL
from simulator.incentives import OfferOutcome, apply_offers
from simulator.kpis import measure, offer_kpis
from simulator.network import WalkNetwork, load_network
from simulator.paths import SCHEMATIC_OSM
from simulator.rides import RideChoice, choose, ride_kpis, walks_left
from simulator.scenario import Scenario, load_scenario

log = logging.getLogger(__name__)
_NETWORK_CACHE: dict[str, WalkNetwork] = {}


@dataclass
class SimResult:
    """Everything one run produced; ``kpis`` is a plain dict (JSON-ready)."""

    scenario: Scenario
    network: WalkNetwork
    demand: Demand
    result: EngineResult
    baseline: EngineResult | None
    baseline_demand: Demand | None
    outcomes: list[OfferOutcome]
    kpis: dict[str, Any] = field(default_factory=dict)
    rides: RideChoice | None = None  # per walk of ``population``: who rode instead
    population: Demand | None = None  # every walk of the day, ridden ones included (rows of ``rides``)

    def to_dict(self) -> dict[str, Any]:
        return self.kpis


def network_for(s: Scenario) -> WalkNetwork:
    """The scenario's network, loaded once per process."""
    path = str(Path(s.network) if s.network else SCHEMATIC_OSM)
    if path not in _NETWORK_CACHE:
        _NETWORK_CACHE[path] = load_network(path)
    return _NETWORK_CACHE[path]


def _as_scenario(scenario: Scenario | str | Path | dict[str, Any]) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, dict):
        return Scenario.model_validate(scenario)
    return load_scenario(scenario)


def run_scenario(scenario: Scenario | str | Path | dict[str, Any], *, agents: int | None = None,
                 network: WalkNetwork | None = None, progress: bool = False) -> SimResult:
    """Simulate one day of a scenario (a model, a YAML path, a shipped name or a dict).

    ``agents`` overrides the scenario's population size (handy for quick runs).
    """
    s = _as_scenario(scenario)
    if agents is not None:
        s = s.with_overrides(population={"agents": agents, "scale": 1.0})
    t0 = time.perf_counter()
    net = network or network_for(s)
    population = demand_mod.generate(s, net)
    rides = choose(s, population, net)
    day = walks_left(population, rides)  # the engine moves the walks only
    passes = 2 if s.offers else 1
    bar = tqdm(total=DAY_MIN * passes, desc=f"sim {s.name}", unit="min", disable=not progress, leave=False)
    try:
        first = simulate(day.trips, day.paths, net, on_minute=lambda _t: bar.update(1))
        baseline, baseline_demand, outcomes = None, None, []
        result, final_demand = first, day
        if s.offers:
            final_demand, outcomes, _changed = apply_offers(s, day, first, net)
            result = simulate(final_demand.trips, final_demand.paths, net, on_minute=lambda _t: bar.update(1))
            baseline, baseline_demand = first, day
    finally:
        bar.close()
    kpis: dict[str, Any] = {
        "scenario": s.name,
        "description": s.description,
        "seed": s.seed,
        "day_type": s.day_type,
        "network": "schematic" if net.schematic else "osm",
        "network_source": Path(net.source).name,
        "network_label": SCHEMATIC_LABEL if net.schematic else "OpenStreetMap walking network",
        "attribution": OSM_ATTRIBUTION,
        "scale": round(day.scale, 4),
        **measure(s, result, final_demand, net),
        **offer_kpis(s, outcomes, result, baseline, net),
        **ride_kpis(s, rides, population.trips),
    }
    if baseline is not None and baseline_demand is not None:
        kpis["baseline"] = measure(s, baseline, baseline_demand, net)
    kpis["wall_s"] = round(time.perf_counter() - t0, 3)
    log.info("scenario %s: %d agents in %.2f s", s.name, kpis["agents"], kpis["wall_s"])
    return SimResult(scenario=s, network=net, demand=final_demand, result=result, baseline=baseline,
                     baseline_demand=baseline_demand, outcomes=outcomes, kpis=kpis, rides=rides,
                     population=population)


def run_kpis(scenario: Scenario | str | Path | dict[str, Any], *, agents: int | None = None) -> dict[str, Any]:
    """Only the KPIs, as a dict (for the embedded demo and notebooks)."""
    return run_scenario(scenario, agents=agents).kpis
