"""Vehicle routing with time windows (VRPTW) on OR-Tools routing: parcels from a depot to homes.

A builder gives an immutable :class:`VrptwProblem` in integer units (travel in the caller's unit, e.g.
tenths of a distance unit or seconds); :func:`solve` returns a :class:`VrptwSolution` whose routes the
independent checker (``services.logistics.domain.check``) can verify. Node 0 is the depot; a route is
the list of customer nodes one vehicle visits in order, leaving from and returning to the depot. Vehicles
are alike unless the problem gives each its own capacity or latest return; the solution says which vehicle
drives each route.

Why this configuration: guided local search over OR-Tools' default operators stalls for long stretches
in the basin of its first solution, and which basin is good depends on the instance (parallel cheapest
insertion suits clustered customers, savings and local cheapest insertion the mixed RC sets; measured
on Solomon C1, R1, RC1). So with enough time the search starts from each of the three (10 % of the
time each) and spends the rest improving the best plan by ruin and recreate (``vrptw_improve``: 5 to 20
related customers taken out and put back where they cost least, then relocate, swap and 2-opt* between
routes and or-opt within them, a thousand times or more, simulated-annealing acceptance), which leaves
the basin where continuing guided local search did not. On Solomon C1, R1 and
RC1 at 10 s per instance (``bench.routing``, a shared two-core machine) the mean gap to the best known
went from 3.15 % to 0.85 % with 10 to 30 removed and 0.98 % with 5 to 20 (PyVRP 0.30 % and 0.26 % in
the same runs), every C1 optimal; 5 to 20 won on a subset with the same starts, and lost the full run
on RC103 (6.9 % against 1.2 %: its result depends on how many routes the starts leave). With the moves
between routes after each recreate the same full run gives 0.56 % and 0.39 % in two runs (PyVRP
0.34 % and 0.26 %), the RC1 instances and R104/R108/R110 furthest off.
The objective is the cost matrix alone (no span or slack cost), in the caller's integer unit. All
OR-Tools transit costs are matrices registered in C++ (no Python callback per arc), which is what makes
100-customer instances search quickly enough in 10 s.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, field, replace
from itertools import pairwise

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2

DROP_PENALTY = 10**9  # per unserved customer when dropping is allowed: dwarfs any route cost


@dataclass(frozen=True)
class VrptwProblem:
    """Depot at node 0. ``travel[i, j]`` is the time from i to j; ``cost`` (defaults to ``travel``) what
    the objective sums; a vehicle may wait before ``ready``, must start service by ``due``, and spends
    ``service`` there. ``fixed_cost`` is paid per vehicle used (0: the number of vehicles is free).

    ``capacities`` (one per vehicle) replaces ``capacity`` for vehicles that differ, and ``vehicle_due``
    (one per vehicle, within the depot's window) is the latest each may be back at the depot; empty, every
    vehicle carries ``capacity`` and may return until ``due[0]``. ``vehicle_ready`` (one per vehicle) is the
    earliest each may leave the depot (``ready[0]`` when empty), ``vehicle_stops`` the most customers each may
    visit (no limit when empty), ``vehicle_fixed_cost`` what using each one adds to the objective (beside
    ``fixed_cost``): a vehicle that must first drive to the depot, or one used only when it pays, and
    ``vehicle_stop_cost`` what each customer it visits adds (a vehicle that should take only what pays)."""

    travel: np.ndarray
    demand: np.ndarray
    ready: np.ndarray
    due: np.ndarray
    service: np.ndarray
    capacity: int
    vehicles: int
    cost: np.ndarray | None = None
    fixed_cost: int = 0
    names: tuple[str, ...] = field(default=())
    capacities: tuple[int, ...] = ()
    vehicle_due: tuple[int, ...] = ()
    vehicle_ready: tuple[int, ...] = ()
    vehicle_stops: tuple[int, ...] = ()
    vehicle_fixed_cost: tuple[int, ...] = ()
    vehicle_stop_cost: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.demand)
        for name in ("travel", "cost"):
            m = getattr(self, name)
            if m is not None and (m.shape != (n, n) or not np.issubdtype(m.dtype, np.integer) or (m < 0).any()):
                raise ValueError(f"{name} must be a non-negative integer {n}x{n} matrix")
        for name in ("ready", "due", "service"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} must have one value per node ({n})")
        if (self.ready > self.due).any():
            bad = int(np.flatnonzero(self.ready > self.due)[0])
            raise ValueError(f"node {bad}: ready time is after its due time")
        if self.demand[0] != 0 or (self.demand < 0).any():
            raise ValueError("demand must be non-negative, and 0 at the depot")
        if self.capacity <= 0 or self.vehicles <= 0:
            raise ValueError("capacity and vehicles must be positive")
        if self.capacities and len(self.capacities) != self.vehicles:
            raise ValueError(f"capacities must have one value per vehicle ({self.vehicles}) or none")
        if any(c <= 0 for c in self.capacities):
            raise ValueError("capacities must be positive")
        if self.vehicle_due and len(self.vehicle_due) != self.vehicles:
            raise ValueError(f"vehicle_due must have one value per vehicle ({self.vehicles}) or none")
        if any(not self.ready[0] <= d <= self.due[0] for d in self.vehicle_due):
            raise ValueError(f"vehicle_due must lie within the depot's window [{self.ready[0]}, {self.due[0]}]")
        for name in ("vehicle_ready", "vehicle_stops", "vehicle_fixed_cost", "vehicle_stop_cost"):
            values = getattr(self, name)
            if values and len(values) != self.vehicles:
                raise ValueError(f"{name} must have one value per vehicle ({self.vehicles}) or none")
            if any(v < 0 for v in values):
                raise ValueError(f"{name} must not be negative")
        if any(not self.ready[0] <= r <= b for r, b in zip(self.vehicle_starts, self.vehicle_returns, strict=True)):
            raise ValueError("vehicle_ready must lie between the depot's ready time and the vehicle's latest return")
        largest = max(self.vehicle_capacities)
        if (self.demand > largest).any():
            bad = int(np.flatnonzero(self.demand > largest)[0])
            raise ValueError(f"node {bad}: demand exceeds the vehicle capacity (largest {largest})")

    @property
    def n_customers(self) -> int:
        return len(self.demand) - 1

    @property
    def cost_matrix(self) -> np.ndarray:
        return self.travel if self.cost is None else self.cost

    @property
    def vehicle_capacities(self) -> tuple[int, ...]:
        """Capacity of each vehicle (``capacities``, or ``capacity`` for all)."""
        return tuple(int(c) for c in self.capacities) or (int(self.capacity),) * self.vehicles

    @property
    def vehicle_returns(self) -> tuple[int, ...]:
        """Latest return to the depot of each vehicle (``vehicle_due``, or ``due[0]`` for all)."""
        return tuple(int(d) for d in self.vehicle_due) or (int(self.due[0]),) * self.vehicles

    @property
    def vehicle_starts(self) -> tuple[int, ...]:
        """Earliest departure from the depot of each vehicle (``vehicle_ready``, or ``ready[0]`` for all)."""
        return tuple(int(r) for r in self.vehicle_ready) or (int(self.ready[0]),) * self.vehicles

    @property
    def vehicle_fixed(self) -> tuple[int, ...]:
        """What using each vehicle costs: ``fixed_cost`` plus its own ``vehicle_fixed_cost``."""
        own = tuple(int(c) for c in self.vehicle_fixed_cost) or (0,) * self.vehicles
        return tuple(int(self.fixed_cost) + c for c in own)

    @property
    def uniform(self) -> bool:
        """All vehicles alike (what the ruin-and-recreate phase assumes)."""
        return not (self.capacities or self.vehicle_due or self.vehicle_ready or self.vehicle_stops
                    or self.vehicle_fixed_cost or self.vehicle_stop_cost)

    @property
    def stop_costs(self) -> tuple[int, ...]:
        """What each customer a vehicle visits adds to the objective (``vehicle_stop_cost``, or 0 for all)."""
        return tuple(int(c) for c in self.vehicle_stop_cost) or (0,) * self.vehicles


@dataclass(frozen=True)
class VrptwSolution:
    routes: tuple[tuple[int, ...], ...]  # customer nodes per used vehicle, in visiting order
    cost: int                            # sum of cost-matrix arcs (+ fixed costs), from the routes
    unserved: tuple[int, ...]            # customers left out (only when dropping is allowed)
    status: str
    vehicles: tuple[int, ...]            # the vehicle driving each route (parallel to ``routes``)

    def by_vehicle(self, n_vehicles: int) -> tuple[tuple[int, ...], ...]:
        """One route per vehicle, empty for the vehicles without one (what ``solve_once`` starts from)."""
        out: list[tuple[int, ...]] = [()] * n_vehicles
        for v, route in zip(self.vehicles, self.routes, strict=True):
            out[v] = route
        return tuple(out)


def route_cost(problem: VrptwProblem, routes: tuple[tuple[int, ...], ...],
               vehicles: tuple[int, ...] | None = None) -> int:
    """Objective of ``routes`` recomputed from the matrix (not taken from the solver); route k driven by
    ``vehicles[k]`` (vehicle k when not given) for the vehicles' own fixed costs."""
    c = problem.cost_matrix
    fixed, per_stop = problem.vehicle_fixed, problem.stop_costs
    total = 0
    for k, route in enumerate(routes):
        if route:
            path = (0, *route, 0)
            v = k if vehicles is None else vehicles[k]
            own = fixed[v] + per_stop[v] * len(route) if v < len(fixed) else 0
            total += int(sum(c[a, b] for a, b in pairwise(path))) + own
    return total


@dataclass(frozen=True)
class SearchConfig:
    """The OR-Tools knobs this project tuned for VRPTW (see bench/routing.py for what they reach).

    ``starts`` (strategy, share of the time) are tried in order when every one gets at least
    ``min_start_s``; otherwise only ``first_solution`` runs, for all of it. Each start gets a tenth of the
    time: ruin and recreate from the best of them did better than longer starts. The time the starts
    leave goes to ruin and recreate from the best plan when ``improve`` (randomised by ``seed``), else to
    guided local search continued from it. (OR-Tools' iterated local search is not offered: the wheels this
    project pins accept its parameters but do not run it, not even with a ruin strategy given.)"""

    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    gls_lambda: float = 0.1
    extra_operators: tuple[str, ...] = ()
    starts: tuple[tuple[str, float], ...] = (
        ("PARALLEL_CHEAPEST_INSERTION", 0.1), ("SAVINGS", 0.1), ("LOCAL_CHEAPEST_INSERTION", 0.1))
    min_start_s: float = 1.0
    improve: bool = True
    seed: int = 0


def search_parameters(seconds: float, config: SearchConfig) -> pywrapcp.DefaultRoutingSearchParameters:
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, config.first_solution)
    params.local_search_metaheuristic = getattr(routing_enums_pb2.LocalSearchMetaheuristic, config.metaheuristic)
    params.guided_local_search_lambda_coefficient = config.gls_lambda
    for name in config.extra_operators:
        setattr(params.local_search_operators, name, optional_boolean_pb2.BOOL_TRUE)
    params.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
    return params


def solve(problem: VrptwProblem, seconds: float = 10.0, allow_drop: bool = False,
          config: SearchConfig | None = None) -> VrptwSolution:
    """Best routes found within ``seconds`` (wall clock). With ``allow_drop`` customers that cannot be
    served are left out at a large penalty instead of making the problem infeasible.

    With time for several starts (see :class:`SearchConfig`), each first-solution strategy gets its share,
    and the rest of the time continues the search from the best plan found (fewest left out, then cost)."""
    config = config or SearchConfig()
    t0 = _time.perf_counter()
    deadline = t0 + seconds
    if len(config.starts) < 2 or seconds * min(share for _, share in config.starts) < config.min_start_s:
        return solve_once(problem, seconds, allow_drop, config)
    best: VrptwSolution | None = None
    until = t0
    for strategy, share in config.starts:
        until += seconds * share
        budget = max(0.1, until - _time.perf_counter())
        found = solve_once(problem, budget, allow_drop, replace(config, first_solution=strategy))
        if found.status == "solved" and (best is None or _rank(found) < _rank(best)):
            best = found
    if best is None:
        return solve_once(problem, max(0.1, deadline - _time.perf_counter()), allow_drop, config)
    left = max(0.1, deadline - _time.perf_counter())
    # The ruin-and-recreate phase knows one vehicle type: vehicles that differ continue with OR-Tools.
    if config.improve and problem.uniform:
        from services.logistics.domain.vrptw_improve import ImproveConfig, improve
        return improve(problem, best, left, ImproveConfig(seed=config.seed))
    more = solve_once(problem, left, allow_drop, config, initial=best.by_vehicle(problem.vehicles))
    return more if more.status == "solved" and _rank(more) <= _rank(best) else best


def _rank(solution: VrptwSolution) -> tuple[int, int]:
    return len(solution.unserved), solution.cost


def solve_once(problem: VrptwProblem, seconds: float, allow_drop: bool, config: SearchConfig,
               initial: tuple[tuple[int, ...], ...] | None = None) -> VrptwSolution:
    """One OR-Tools search from ``config.first_solution``, or from ``initial`` routes when given: route k
    is driven by vehicle k (empty for an unused one), as :meth:`VrptwSolution.by_vehicle` gives them."""
    if initial is not None and len(initial) > problem.vehicles:
        raise ValueError(f"initial has {len(initial)} routes but there are {problem.vehicles} vehicles")
    n = len(problem.demand)
    manager = pywrapcp.RoutingIndexManager(n, problem.vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)

    cost_cb = routing.RegisterTransitMatrix(problem.cost_matrix.astype(np.int64).tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(cost_cb)
    for premium in sorted(set(problem.stop_costs) - {0}):   # arcs into a customer cost its stop's premium more
        dearer = problem.cost_matrix.astype(np.int64).copy()
        dearer[:, 1:] += premium
        dearer_cb = routing.RegisterTransitMatrix(dearer.tolist())
        for v, own in enumerate(problem.stop_costs):
            if own == premium:
                routing.SetArcCostEvaluatorOfVehicle(dearer_cb, v)
    for v, fixed in enumerate(problem.vehicle_fixed):
        if fixed:
            routing.SetFixedCostOfVehicle(fixed, v)

    demand_cb = routing.RegisterUnaryTransitVector(problem.demand.astype(np.int64).tolist())
    routing.AddDimensionWithVehicleCapacity(demand_cb, 0, list(problem.vehicle_capacities), True, "load")
    if problem.vehicle_stops:
        count_cb = routing.RegisterUnaryTransitVector([0] + [1] * (n - 1))
        routing.AddDimensionWithVehicleCapacity(count_cb, 0, [int(k) for k in problem.vehicle_stops], True,
                                                "stops")

    # Time transit i -> j is the service at i plus the travel: cumul = start of service.
    time_matrix = problem.travel.astype(np.int64) + problem.service.astype(np.int64)[:, None]
    time_cb = routing.RegisterTransitMatrix(time_matrix.tolist())
    horizon = int(problem.due.max())
    routing.AddDimension(time_cb, horizon, horizon, False, "time")
    time = routing.GetDimensionOrDie("time")
    for node in range(1, n):
        time.CumulVar(manager.NodeToIndex(node)).SetRange(int(problem.ready[node]), int(problem.due[node]))
        if allow_drop:
            routing.AddDisjunction([manager.NodeToIndex(node)], DROP_PENALTY)
    for v, (leave, back_by) in enumerate(zip(problem.vehicle_starts, problem.vehicle_returns, strict=True)):
        time.CumulVar(routing.Start(v)).SetRange(leave, back_by)
        time.CumulVar(routing.End(v)).SetRange(int(problem.ready[0]), back_by)
        routing.AddVariableMinimizedByFinalizer(time.CumulVar(routing.End(v)))

    params = search_parameters(seconds, config)
    assignment = None
    if initial is not None:
        routing.CloseModelWithParameters(params)
        start = routing.ReadAssignmentFromRoutes([[manager.NodeToIndex(c) for c in r] for r in initial], True)
        if start is not None:
            assignment = routing.SolveFromAssignmentWithParameters(start, params)
    if assignment is None:
        assignment = routing.SolveWithParameters(params)
    if assignment is None:
        return VrptwSolution(routes=(), cost=0, unserved=tuple(range(1, n)), status="infeasible",
                             vehicles=())
    routes, drivers = [], []
    for v in range(problem.vehicles):
        index, route = routing.Start(v), []
        index = assignment.Value(routing.NextVar(index))
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = assignment.Value(routing.NextVar(index))
        if route:
            routes.append(tuple(route))
            drivers.append(v)
    served = {c for r in routes for c in r}
    routes_t = tuple(routes)
    return VrptwSolution(routes=routes_t, cost=route_cost(problem, routes_t, tuple(drivers)),
                         unserved=tuple(c for c in range(1, n) if c not in served), status="solved",
                         vehicles=tuple(drivers))
