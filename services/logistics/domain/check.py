"""Checks VRPTW routes against the problem without the solver: visits, capacity, time windows, vehicles.

Written apart from ``vrptw.solve`` (it reads only the problem's arrays and the routes), so a solver bug
cannot hide behind its own bookkeeping. Service starts at max(arrival, ready); waiting is allowed, so the
earliest-start schedule is feasible whenever any schedule is.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from services.logistics.domain.vrptw import VrptwProblem


@dataclass(frozen=True)
class Verdict:
    feasible: bool
    violations: tuple[str, ...]
    cost: int             # recomputed from the cost matrix
    vehicles_used: int


def check_routes(problem: VrptwProblem, routes: tuple[tuple[int, ...], ...] | list[list[int]],
                 unserved: tuple[int, ...] = (), vehicles: tuple[int, ...] | None = None) -> Verdict:
    """Every customer exactly once (or declared unserved), no load above its vehicle's capacity nor more
    customers than it may visit, every service started within its window (leaving the depot no earlier than
    the vehicle may), every vehicle back at the depot by its own latest return (the depot's due time unless
    the problem gives one per vehicle), at most one route per vehicle.

    Route k is driven by vehicle ``vehicles[k]`` (as a solution says), or by vehicle k when not given."""
    violations: list[str] = []
    n = len(problem.demand)
    drivers = list(range(len(routes))) if vehicles is None else list(vehicles)
    if len(drivers) != len(routes):
        violations.append(f"{len(routes)} routes but {len(drivers)} vehicles named for them")
    capacities = list(problem.capacities) or [problem.capacity] * problem.vehicles
    returns = list(problem.vehicle_returns)
    starts, fixed, per_stop = list(problem.vehicle_starts), list(problem.vehicle_fixed), list(problem.stop_costs)
    used = [(tuple(r), v) for r, v in zip(routes, drivers, strict=False) if len(r)]
    if len(used) > problem.vehicles:
        violations.append(f"{len(used)} routes but only {problem.vehicles} vehicles")
    for v, k in Counter(v for _, v in used).items():
        if not 0 <= v < problem.vehicles:
            violations.append(f"vehicle {v} does not exist")
        elif k > 1:
            violations.append(f"vehicle {v} drives {k} routes")
    seen = Counter(c for r, _ in used for c in r)
    for c, k in seen.items():
        if not 1 <= c < n:
            violations.append(f"node {c} is not a customer")
        elif k > 1:
            violations.append(f"customer {c} visited {k} times")
    for c in range(1, n):
        if c not in seen and c not in unserved:
            violations.append(f"customer {c} is not visited")
    t, c_mat = problem.travel, problem.cost_matrix
    cost = 0
    for k, (route, v) in enumerate(used):
        real = 0 <= v < problem.vehicles
        capacity, back_by = (int(capacities[v]), int(returns[v])) if real else (problem.capacity, int(problem.due[0]))
        load = sum(int(problem.demand[c]) for c in route if 1 <= c < n)
        if load > capacity:
            violations.append(f"route {k + 1}: load {load} above capacity {capacity}")
        if real and problem.vehicle_stops and len(route) > problem.vehicle_stops[v]:
            violations.append(f"route {k + 1}: {len(route)} customers, above {problem.vehicle_stops[v]}")
        clock, prev = (int(starts[v]), 0) if real else (int(problem.ready[0]), 0)
        cost += fixed[v] + per_stop[v] * sum(1 for c in route if 1 <= c < n) if real else problem.fixed_cost
        for c in route:
            if not 1 <= c < n:
                continue
            arrive = clock + int(t[prev, c])
            start = max(arrive, int(problem.ready[c]))
            if start > problem.due[c]:
                violations.append(f"route {k + 1}: customer {c} served at {start}, after its due time {problem.due[c]}")
            cost += int(c_mat[prev, c])
            clock, prev = start + int(problem.service[c]), c
        back = clock + int(t[prev, 0])
        cost += int(c_mat[prev, 0])
        if back > back_by:
            violations.append(f"route {k + 1}: back at the depot at {back}, after {back_by}")
    return Verdict(feasible=not violations, violations=tuple(violations), cost=cost, vehicles_used=len(used))
