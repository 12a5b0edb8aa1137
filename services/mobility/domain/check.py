"""Checks a dial-a-ride plan without the solver: pairing, precedence, capacity, and whether any schedule
meets every time window, ride-time limit and route-duration limit.

Written apart from ``darp.solve`` and ``insertion``: it reads only the problem's arrays and the routes.
Times are the hard part, because waiting is allowed and an early pick-up lengthens a ride: a fixed
"earliest start" schedule would reject plans that are feasible. All the timing rules on one route are
difference constraints (B_j - B_i <= w), so a schedule exists exactly when their constraint graph has no
negative cycle; Bellman-Ford decides that, exactly, in O(stops^2) per route.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from services.mobility.domain.darp import DarpProblem, plan_cost


@dataclass(frozen=True)
class Verdict:
    feasible: bool
    violations: tuple[str, ...]
    cost: int


def schedule_exists(edges: list[tuple[int, int, int]], n_vars: int) -> bool:
    """Difference constraints x_j - x_i <= w as edges (i, j, w), variable 0 being the time origin."""
    dist = [0] * n_vars  # virtual source joined to every variable at weight 0
    for _ in range(n_vars):
        changed = False
        for i, j, w in edges:
            if dist[i] + w < dist[j]:
                dist[j] = dist[i] + w
                changed = True
        if not changed:
            return True
    return False


def route_timing_edges(problem: DarpProblem, v: int, route: tuple[int, ...]) -> tuple[list[tuple[int, int, int]], int]:
    """The timing rules of vehicle ``v`` following ``route`` (variable k+1 is the k-th stop, start first)."""
    path = [int(problem.starts[v]), *route, int(problem.ends[v])]
    t, s = problem.travel, problem.service
    edges: list[tuple[int, int, int]] = []
    z = 0
    for k, node in enumerate(path, start=1):
        lo = problem.vehicle_start_time(v) if k == 1 else int(problem.earliest[node])
        hi = max(lo, int(problem.latest[node])) if k == 1 else int(problem.latest[node])
        edges += [(z, k, hi), (k, z, -lo)]
        if k > 1:
            prev = path[k - 2]
            edges.append((k, k - 1, -int(s[prev] + t[prev, node])))
    last = len(path)
    edges.append((1, last, int(problem.max_duration[v])))
    position = {node: k for k, node in enumerate(path, start=1) if 1 < k < last}
    for r, (p, d) in enumerate(zip(problem.pickups, problem.deliveries, strict=True)):
        if int(p) in position and int(d) in position:
            edges.append((position[int(p)], position[int(d)], int(problem.max_ride[r] + s[p])))
    return edges, last + 1


def check_plan(problem: DarpProblem, routes: tuple[tuple[int, ...], ...] | list[list[int]],
               unserved: tuple[int, ...] = ()) -> Verdict:
    """All rules of the problem on ``routes`` (one per vehicle, start and end nodes left out)."""
    out: list[str] = []
    routes = tuple(tuple(int(x) for x in r) for r in routes)
    if len(routes) != problem.n_vehicles:
        out.append(f"{len(routes)} routes for {problem.n_vehicles} vehicles")
        return Verdict(False, tuple(out), 0)
    depots = set(problem.starts.tolist()) | set(problem.ends.tolist())
    visits = Counter(x for r in routes for x in r)
    for node, k in visits.items():
        if node in depots:
            out.append(f"depot node {node} visited inside a route")
        elif k > 1:
            out.append(f"node {node} visited {k} times")
    where = {x: v for v, r in enumerate(routes) for x in r}
    order = {x: i for r in routes for i, x in enumerate(r)}
    optional = problem.optional
    for r, (p, d) in enumerate(zip(problem.pickups, problem.deliveries, strict=True)):
        p, d = int(p), int(d)
        if p not in where and d not in where:
            if r not in unserved or optional is None or not optional[r]:
                out.append(f"request {r} is not served")
            continue
        if p not in where or d not in where:
            out.append(f"request {r}: only one of its pick-up and drop-off is planned")
        elif where[p] != where[d]:
            out.append(f"request {r}: picked up by vehicle {where[p]} but dropped by {where[d]}")
        elif order[p] > order[d]:
            out.append(f"request {r}: dropped off before it is picked up")
        if r in problem.pinned and where.get(p) != problem.pinned[r]:
            out.append(f"request {r}: promised vehicle {problem.pinned[r]} but planned on {where.get(p)}")
    for v in range(problem.n_vehicles):
        if v in problem.first_stop and (not routes[v] or routes[v][0] != problem.first_stop[v]):
            out.append(f"vehicle {v}: must go on to node {problem.first_stop[v]} first")
        for d in problem.onboard_of(v):
            if where.get(int(d)) != v:
                out.append(f"vehicle {v}: rider on board for node {d} is not dropped by it")
        onboard_load = -sum(int(problem.load[d]) for d in problem.onboard_of(v))
        load = onboard_load
        for x in routes[v]:
            load += int(problem.load[x])
            if load > problem.capacity[v] or load < 0:
                out.append(f"vehicle {v}: load {load} at node {x} outside 0..{problem.capacity[v]}")
                break
        edges, n_vars = route_timing_edges(problem, v, routes[v])
        if not schedule_exists(edges, n_vars):
            out.append(f"vehicle {v}: no schedule meets its time windows, ride times and duration")
    return Verdict(not out, tuple(out), plan_cost(problem, routes))
