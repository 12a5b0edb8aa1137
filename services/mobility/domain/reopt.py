"""Periodic re-optimisation of the open plan with OR-Tools, keeping every promise made to riders.

The live fleet becomes one :class:`DarpProblem`: each vehicle starts where and when it is free, riders on
board are pinned to their vehicle, a vehicle already driving to a stop must go there first, and every
accepted request keeps its promised pick-up window, latest arrival and maximum ride time as hard limits,
with no way to drop it. The search starts from the current plans, so it can only keep or improve them;
the result is adopted only if every vehicle's earliest-start schedule is feasible (what the vehicles will
drive) and every open request is still planned. Otherwise the old plans stay: a promise is never traded
for a shorter route. A delivery round a vehicle holds between rides (``domain.lending``) stays on that
vehicle at its hours. Co-owned cars are left out: each of their trips is already a booking in their
members' book, so their plans stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from services.mobility.domain import darp
from services.mobility.domain.dispatcher import Dispatcher
from services.mobility.domain.fleet import PICKUP, Stop, Vehicle, simulate, slowest

END = 0  # one open end node for every vehicle: zero travel from anywhere


@dataclass(frozen=True)
class ReoptOutcome:
    adopted: bool
    cost_before: int
    cost_after: int
    requests: int
    reason: str = ""


@dataclass(frozen=True)
class FleetModel:
    problem: darp.DarpProblem
    stops: list[Stop | None]     # node k (k >= 1 + vehicles) -> its stop; None for the depot and vehicle starts
    initial: tuple[tuple[int, ...], ...]


def _stop(model: FleetModel, node: int) -> Stop:
    stop = model.stops[node]
    if stop is None:
        raise ValueError(f"node {node} is the depot or a vehicle's start, not a stop")
    return stop


def build_model(d: Dispatcher, fleet: list[Vehicle] | None = None) -> FleetModel:
    """The dial-a-ride problem of the open plan of ``fleet`` (default: the whole fleet; see the module
    docstring)."""
    fleet = d.fleet if fleet is None else fleet
    nv = len(fleet)
    stops = [s for v in fleet for s in v.stops]
    loc = np.array([0] + [v.place for v in fleet] + [s.place for s in stops], dtype=np.int64)
    travel = slowest(d.travel)[np.ix_(loc, loc)].astype(np.int64)  # the adoption check uses the real hours
    travel[:, END] = 0
    travel[END, :] = 0
    service = np.array([0] * (1 + nv) + [s.service for s in stops], dtype=np.int64)
    earliest = np.array([0] + [v.free_at for v in fleet] + [s.earliest for s in stops], dtype=np.int64)
    latest = np.array([max(v.shift_end for v in fleet)] + [v.shift_end for v in fleet]
                      + [s.latest for s in stops], dtype=np.int64)
    load = np.array([0] * (1 + nv) + [s.load for s in stops], dtype=np.int64)
    node_of: dict[tuple[str, str], int] = {}
    initial, onboard, first_stop = [], [], {}
    k = 1 + nv
    for vi, v in enumerate(fleet):
        route = []
        for s in v.stops:
            node_of[(s.request, s.kind)] = k
            route.append(k)
            k += 1
        initial.append(tuple(route))
        aboard = tuple(node_of[(r, "dropoff")] for r in v.onboard if (r, "dropoff") in node_of)
        onboard.append(aboard)
        for r in v.onboard:
            if (r, "dropoff") in node_of:
                node = node_of[(r, "dropoff")]
                latest[node] = min(latest[node], v.picked_at[r] + d.max_ride[r])
        if v.locked and route:
            first_stop[vi] = route[0]
    pickups, deliveries, rides, pinned = [], [], [], {}
    for vi, v in enumerate(fleet):
        for s in v.stops:
            if s.kind == PICKUP:
                pickups.append(node_of[(s.request, "pickup")])
                deliveries.append(node_of[(s.request, "dropoff")])
                rides.append(d.max_ride[s.request])
                if first_stop.get(vi) == pickups[-1] or s.request in d.jobs:  # a delivery round stays on its vehicle
                    pinned[len(pickups) - 1] = vi
    problem = darp.DarpProblem(
        travel=travel, service=service, earliest=earliest, latest=latest, load=load,
        pickups=np.array(pickups, dtype=np.int64), deliveries=np.array(deliveries, dtype=np.int64),
        max_ride=np.array(rides, dtype=np.int64), starts=np.arange(1, 1 + nv), ends=np.zeros(nv, dtype=np.int64),
        capacity=np.array([v.capacity for v in fleet], dtype=np.int64),
        max_duration=np.array([max(0, v.shift_end - v.free_at) for v in fleet], dtype=np.int64),
        start_time=np.array([v.free_at for v in fleet], dtype=np.int64),
        onboard=tuple(onboard), pinned=pinned, first_stop=first_stop,
    )
    nodes: list[Stop | None] = [*([None] * (1 + nv)), *stops]
    return FleetModel(problem, nodes, tuple(initial))


def reoptimise(d: Dispatcher, now: int, seconds: float = 1.0) -> ReoptOutcome:
    """Re-plan the open requests; adopt the new plan only if it keeps every rule and every promise."""
    d.advance(now)
    # Co-owned cars keep their plans: each of their trips is a booking in their members' book already.
    fleet = [v for v in d.fleet if v.home is None]
    if not fleet:
        return ReoptOutcome(False, 0, 0, 0, "nothing to re-plan")
    model = build_model(d, fleet)
    n_requests = len(model.problem.pickups)
    before = sum(simulate(v, v.stops, d.travel, d.max_ride).travel for v in fleet)
    if n_requests == 0:
        return ReoptOutcome(False, before, before, 0, "nothing to re-plan")
    solution = darp.solve(model.problem, seconds, initial=model.initial)
    if solution.status != "solved" or solution.unserved:
        return ReoptOutcome(False, before, before, n_requests, "the search lost a request")
    new_plans = [[_stop(model, k) for k in route] for route in solution.routes]
    after = 0
    for v, plan in zip(fleet, new_plans, strict=True):
        sched = simulate(v, plan, d.travel, d.max_ride)
        if not sched.feasible:
            return ReoptOutcome(False, before, before, n_requests, f"vehicle {v.id}: {sched.reason}")
        after += sched.travel
    if after > before:
        return ReoptOutcome(False, before, after, n_requests, "no shorter plan found")
    for v, plan in zip(fleet, new_plans, strict=True):
        v.stops = plan
        for s in plan:
            if s.request in d.promises and d.promises[s.request].vehicle != v.id:
                d.promises[s.request] = replace(d.promises[s.request], vehicle=v.id)
    return ReoptOutcome(True, before, after, n_requests)
