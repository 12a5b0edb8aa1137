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
                 unserved: tuple[int, ...] = ()) -> Verdict:
    """Every customer exactly once (or declared unserved), no load above capacity, every service started
    within its window, every vehicle back at the depot by its due time, at most ``vehicles`` routes."""
    violations: list[str] = []
    n = len(problem.demand)
    used = [tuple(r) for r in routes if len(r)]
    if len(used) > problem.vehicles:
        violations.append(f"{len(used)} routes but only {problem.vehicles} vehicles")
    seen = Counter(c for r in used for c in r)
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
    for k, route in enumerate(used):
        load = sum(int(problem.demand[c]) for c in route if 1 <= c < n)
        if load > problem.capacity:
            violations.append(f"route {k + 1}: load {load} above capacity {problem.capacity}")
        clock, prev = int(problem.ready[0]), 0
        cost += problem.fixed_cost
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
        if back > problem.due[0]:
            violations.append(f"route {k + 1}: back at the depot at {back}, after {problem.due[0]}")
    return Verdict(feasible=not violations, violations=tuple(violations), cost=cost, vehicles_used=len(used))
