"""Dial-a-ride (pick-up and delivery with time windows, capacities, maximum ride time, maximum route
duration) on OR-Tools routing.

One immutable :class:`DarpProblem` serves the static benchmark (all vehicles at one depot, every request
open) and the live re-optimisation (vehicles start where they are, riders already on board must be
dropped by their vehicle, requests promised to riders must stay served). Times and costs are integers
(seconds in the service; thousandths in the benchmark). Node ids index the matrices; a request is a
(pick-up node, drop-off node) pair; a rider on board has only a drop-off node pinned to one vehicle.

Why these modelling choices: the ride-time limit goes through OR-Tools' pick-up-to-delivery limit on
the time dimension (checked in the solver's own filters, so local search stays fast), the route
duration through the span upper bound; start times are free within the depot window, so a vehicle may
leave later to shorten its route's duration.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2

UNSERVED_PENALTY = 10**9


@dataclass(frozen=True)
class DarpProblem:
    travel: np.ndarray         # N x N travel time between nodes
    service: np.ndarray        # N service duration at each node
    earliest: np.ndarray       # N start of service not before
    latest: np.ndarray         # N start of service not after
    load: np.ndarray           # N: + party size at a pick-up, - at its drop-off, 0 at depots
    pickups: np.ndarray        # R pick-up node of each request
    deliveries: np.ndarray     # R drop-off node of each request
    max_ride: np.ndarray       # R: drop-off start - (pick-up start + pick-up service) at most this
    starts: np.ndarray         # V start node of each vehicle
    ends: np.ndarray           # V end node of each vehicle
    capacity: np.ndarray       # V seats
    max_duration: np.ndarray   # V: end time - start time at most this
    start_time: np.ndarray | None = None   # V: vehicle available from (defaults to its start's earliest)
    cost: np.ndarray | None = None         # N x N objective; defaults to travel
    onboard: tuple[tuple[int, ...], ...] = ()   # per vehicle: drop-off nodes of riders already on board
    pinned: dict[int, int] = field(default_factory=dict)  # request index -> vehicle it must stay on
    optional: np.ndarray | None = None     # R bool: may be left unserved (at a large penalty)
    first_stop: dict[int, int] = field(default_factory=dict)  # vehicle -> node it is already driving to

    def __post_init__(self) -> None:
        n = len(self.service)
        for name in ("travel", "cost"):
            m = getattr(self, name)
            if m is not None and (m.shape != (n, n) or not np.issubdtype(m.dtype, np.integer) or (m < 0).any()):
                raise ValueError(f"{name} must be a non-negative integer {n}x{n} matrix")
        if (self.earliest > self.latest).any():
            bad = int(np.flatnonzero(self.earliest > self.latest)[0])
            raise ValueError(f"node {bad}: earliest time is after its latest time")
        if len(self.pickups) != len(self.deliveries) or len(self.max_ride) != len(self.pickups):
            raise ValueError("pickups, deliveries and max_ride need one entry per request")
        v = len(self.starts)
        if not (len(self.ends) == len(self.capacity) == len(self.max_duration) == v) or v == 0:
            raise ValueError("starts, ends, capacity and max_duration need one entry per vehicle (at least one)")
        if self.onboard and len(self.onboard) != v:
            raise ValueError("onboard needs one tuple per vehicle")
        for r, (p, d) in enumerate(zip(self.pickups, self.deliveries, strict=True)):
            if self.load[p] <= 0 or self.load[d] != -self.load[p]:
                raise ValueError(f"request {r}: pick-up load must be positive and the drop-off its negative")

    @property
    def n_vehicles(self) -> int:
        return len(self.starts)

    @property
    def cost_matrix(self) -> np.ndarray:
        return self.travel if self.cost is None else self.cost

    def vehicle_start_time(self, v: int) -> int:
        if self.start_time is not None:
            return int(self.start_time[v])
        return int(self.earliest[self.starts[v]])

    def onboard_of(self, v: int) -> tuple[int, ...]:
        return self.onboard[v] if self.onboard else ()


@dataclass(frozen=True)
class DarpSolution:
    routes: tuple[tuple[int, ...], ...]   # per vehicle: nodes visited between its start and end
    times: dict[int, int]                 # visited node -> planned start of service (solver's schedule)
    cost: int
    unserved: tuple[int, ...]             # request indices left out
    status: str


def tighten_windows(problem: DarpProblem) -> DarpProblem:
    """Windows implied by the others (a pick-up cannot start so late that its drop-off misses its window,
    nor a drop-off so early that the pick-up could not have happened): same feasible set, smaller search."""
    e, lt = problem.earliest.copy(), problem.latest.copy()
    t, s = problem.travel, problem.service
    for p, d, ride in zip(problem.pickups, problem.deliveries, problem.max_ride, strict=True):
        e[d] = max(e[d], e[p] + s[p] + t[p, d])
        lt[d] = min(lt[d], lt[p] + s[p] + ride)
        e[p] = max(e[p], e[d] - ride - s[p])
        lt[p] = min(lt[p], lt[d] - t[p, d] - s[p])
    return DarpProblem(**{**problem.__dict__, "earliest": e, "latest": lt})


Progress = list[tuple[float, int, tuple[tuple[int, ...], ...]]]
# First-solution strategies tried in turn, each leading to a different basin that guided local search then
# rarely leaves (on Cordeau-Laporte a6-72 the six give plans 948 to 983 after 10 s, with no improvement in the
# 50 s that follow the best of them). Parallel cheapest insertion first; local cheapest insertion fits tight
# windows that it leaves out.
STARTS = ("PARALLEL_CHEAPEST_INSERTION", "LOCAL_CHEAPEST_INSERTION", "PATH_CHEAPEST_ARC",
          "SEQUENTIAL_CHEAPEST_INSERTION", "SAVINGS", "LOCAL_CHEAPEST_COST_INSERTION")
START_SHARE = 0.5  # of the time limit for the starts; the rest continues from the best plan
MIN_START_S = 2.0  # a start needs this long at least: fewer starts (never fewer than two) below it


def solve(problem: DarpProblem, seconds: float = 10.0, initial: tuple[tuple[int, ...], ...] | None = None,
          metaheuristic: str = "GUIDED_LOCAL_SEARCH", progress: Progress | None = None) -> DarpSolution:
    """Best plan found within ``seconds``. ``initial`` (routes per vehicle) starts the search from a known
    plan, so a re-optimisation can only keep or improve it. ``progress`` receives (seconds elapsed, cost,
    routes) of every improving plan, so one run also says what a shorter limit would have given.

    Without ``initial``: half the time goes to short searches from several first solutions (see ``STARTS``),
    the other half continues from the best of them (fewest mandatory requests left out, then cost)."""
    if initial is not None:
        return solve_once(problem, seconds, initial, metaheuristic, "PARALLEL_CHEAPEST_INSERTION", progress)
    t0 = _time.perf_counter()
    deadline = t0 + seconds
    n_starts = min(len(STARTS), max(2, int(seconds * START_SHARE / MIN_START_S)))
    optional = problem.optional if problem.optional is not None else np.zeros(len(problem.pickups), bool)

    def rank(s: DarpSolution) -> tuple[bool, int, int]:
        return s.status != "solved", sum(1 for r in s.unserved if not optional[r]), s.cost

    def run(budget: float, start: tuple[tuple[int, ...], ...] | None, strategy: str) -> DarpSolution:
        offset = _time.perf_counter() - t0
        steps: Progress | None = [] if progress is not None else None
        found = solve_once(problem, max(0.1, budget), start, metaheuristic, strategy, steps)
        for t, c, r in steps or ():
            if progress is not None and (not progress or c < progress[-1][1]):
                progress.append((t + offset, c, r))
        return found

    best: DarpSolution | None = None
    for k, strategy in enumerate(STARTS[:n_starts]):
        share = (deadline - _time.perf_counter() - seconds * (1 - START_SHARE)) / (n_starts - k)
        found = run(share, None, strategy)
        if best is None or rank(found) < rank(best):
            best = found
    assert best is not None
    if best.status != "solved":
        return best
    final = run(deadline - _time.perf_counter(), best.routes, "PARALLEL_CHEAPEST_INSERTION")
    return final if rank(final) <= rank(best) else best


def solve_once(problem: DarpProblem, seconds: float, initial: tuple[tuple[int, ...], ...] | None,
               metaheuristic: str, first_solution: str, progress: Progress | None) -> DarpSolution:
    """One OR-Tools search (see :func:`solve`)."""
    n, nv = len(problem.service), problem.n_vehicles
    manager = pywrapcp.RoutingIndexManager(n, nv, [int(x) for x in problem.starts], [int(x) for x in problem.ends])
    routing = pywrapcp.RoutingModel(manager)
    depots = set(problem.starts.tolist()) | set(problem.ends.tolist())

    cost_cb = routing.RegisterTransitMatrix(problem.cost_matrix.astype(np.int64).tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(cost_cb)

    load_cb = routing.RegisterUnaryTransitVector(problem.load.astype(np.int64).tolist())
    routing.AddDimensionWithVehicleCapacity(load_cb, 0, [int(c) for c in problem.capacity], False, "load")
    load = routing.GetDimensionOrDie("load")

    time_matrix = problem.travel.astype(np.int64) + problem.service.astype(np.int64)[:, None]
    time_cb = routing.RegisterTransitMatrix(time_matrix.tolist())
    horizon = int(max(problem.latest.max(), (problem.start_time.max() if problem.start_time is not None else 0)))
    routing.AddDimension(time_cb, horizon, horizon, False, "time")
    time = routing.GetDimensionOrDie("time")
    solver = routing.solver()

    for node in range(n):
        if node in depots:
            continue
        index = manager.NodeToIndex(node)
        time.CumulVar(index).SetRange(int(problem.earliest[node]), int(problem.latest[node]))
    for v in range(nv):
        start, end = routing.Start(v), routing.End(v)
        t0 = problem.vehicle_start_time(v)
        time.CumulVar(start).SetRange(t0, max(t0, int(problem.latest[problem.starts[v]])))
        time.CumulVar(end).SetRange(int(problem.earliest[problem.ends[v]]), int(problem.latest[problem.ends[v]]))
        time.SetSpanUpperBoundForVehicle(int(problem.max_duration[v]), v)
        routing.AddVariableMaximizedByFinalizer(time.CumulVar(start))
        routing.AddVariableMinimizedByFinalizer(time.CumulVar(end))
        aboard = problem.onboard_of(v)
        load.CumulVar(start).SetValue(int(-sum(int(problem.load[d]) for d in aboard)))
        for d in aboard:
            routing.VehicleVar(manager.NodeToIndex(int(d))).SetValues([-1, v])
        if v in problem.first_stop:
            routing.NextVar(start).SetValues([manager.NodeToIndex(int(problem.first_stop[v]))])

    optional = problem.optional if problem.optional is not None else np.zeros(len(problem.pickups), bool)
    for r, (p, d) in enumerate(zip(problem.pickups, problem.deliveries, strict=True)):
        pi, di = manager.NodeToIndex(int(p)), manager.NodeToIndex(int(d))
        routing.AddPickupAndDelivery(pi, di)
        solver.Add(routing.VehicleVar(pi) == routing.VehicleVar(di))
        solver.Add(time.CumulVar(pi) <= time.CumulVar(di))
        limit = int(problem.max_ride[r] + problem.service[p])  # pairs are numbered in the order added
        time.SetPickupToDeliveryLimitFunctionForPair(lambda _a, _b, lim=limit: lim, r)
        if r in problem.pinned:
            routing.VehicleVar(pi).SetValues([-1, int(problem.pinned[r])])
        # Every request may be dropped at a penalty far above any route cost: the search then always has a
        # first plan and works its way to serving everyone; a mandatory request left out is reported in
        # ``unserved`` (and the checker refuses the plan), an optional one is simply declined.
        routing.AddDisjunction([pi, di], UNSERVED_PENALTY if optional[r] else 100 * UNSERVED_PENALTY, 2)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, first_solution)
    params.local_search_metaheuristic = getattr(routing_enums_pb2.LocalSearchMetaheuristic, metaheuristic)
    # Moves that bring a left-out request in by swapping it with a planned one: without them the search
    # can stall with one request out when the windows are tight (Cordeau-Laporte a3-36).
    for op in ("use_node_pair_swap_active", "use_relocate_and_make_active", "use_exchange_and_make_active"):
        setattr(params.local_search_operators, op, optional_boolean_pb2.BOOL_TRUE)
    params.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))

    if progress is not None:
        started = _time.perf_counter()

        def record() -> None:
            cost = routing.CostVar().Value()
            if progress and progress[-1][1] <= cost:
                return
            routes = []
            for v in range(nv):
                index, route = routing.NextVar(routing.Start(v)).Value(), []
                while not routing.IsEnd(index):
                    route.append(manager.IndexToNode(index))
                    index = routing.NextVar(index).Value()
                routes.append(tuple(route))
            progress.append((_time.perf_counter() - started, cost, tuple(routes)))

        routing.AddAtSolutionCallback(record)

    assignment = None
    if initial is not None:
        start_routes = [[manager.NodeToIndex(int(x)) for x in r] for r in initial]
        routing.CloseModelWithParameters(params)
        seed = routing.ReadAssignmentFromRoutes(start_routes, True)
        if seed is not None:
            assignment = routing.SolveFromAssignmentWithParameters(seed, params)
    if assignment is None:
        assignment = routing.SolveWithParameters(params)
    if assignment is None:
        return DarpSolution((), {}, 0, tuple(range(len(problem.pickups))), "infeasible")
    routes, times = [], {}
    for v in range(nv):
        index, route = routing.Start(v), []
        index = assignment.Value(routing.NextVar(index))
        while not routing.IsEnd(index):
            node = manager.IndexToNode(index)
            route.append(node)
            times[node] = assignment.Value(time.CumulVar(index))
            index = assignment.Value(routing.NextVar(index))
        routes.append(tuple(route))
    served = {x for r in routes for x in r}
    unserved = tuple(r for r, p in enumerate(problem.pickups) if int(p) not in served)
    routes_t = tuple(routes)
    return DarpSolution(routes_t, times, plan_cost(problem, routes_t), unserved, "solved")


def plan_cost(problem: DarpProblem, routes: tuple[tuple[int, ...], ...]) -> int:
    """Objective of ``routes`` from the cost matrix; an unused vehicle costs its start-to-end arc only
    if it has one (start != end)."""
    c = problem.cost_matrix
    total = 0
    for v, route in enumerate(routes):
        path = (int(problem.starts[v]), *route, int(problem.ends[v]))
        total += int(sum(int(c[a, b]) for a, b in pairwise(path)))
    return total
