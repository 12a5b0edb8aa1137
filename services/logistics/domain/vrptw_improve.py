"""Ruin and recreate on OR-Tools for VRPTW: improves a plan by removing related customers and repairing.

Guided local search from one start stalls in its first basin (see ``vrptw``); this phase leaves it. Each
step removes a set of related customers from the current plan (near in space, in time window and in
demand: Shaw removal, randomised), hands the partial plan to one closed OR-Tools model
(``ReadAssignmentFromRoutes`` + ``SolveFromAssignmentWithParameters``), whose greedy descent puts the
removed customers back (its insertion operators) and polishes the routes, for a fraction of a second.
A step's plan replaces the current one when it serves as many customers and is cheaper, or, with a
probability that falls as the search nears its deadline, when it is a little worse (simulated
annealing); the best plan is kept. The model is built once, so a step costs only its search.

Randomness comes from ``seed`` alone; what a run returns also depends on how many steps fit in the
time given, as for every time-limited search here.
"""

from __future__ import annotations

import math
import time as _time
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2

from services.logistics.domain.vrptw import DROP_PENALTY, VrptwProblem, VrptwSolution, route_cost

Routes = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class ImproveConfig:
    """``removed`` bounds how many customers a step takes out (at most all of them); ``step_s`` caps one
    repair search; a worse plan is accepted with probability exp(-extra / T), T falling linearly from
    ``temperature`` times the starting cost to 0 at the deadline; ``greediness`` > 1 makes removal stick
    to the most related customers (Shaw's exponent)."""

    removed: tuple[int, int] = (8, 20)
    step_s: float = 0.3
    temperature: float = 0.01
    greediness: float = 6.0
    seed: int = 0
    disabled_operators: tuple[str, ...] = ()


def relatedness_order(problem: VrptwProblem) -> np.ndarray:
    """Per customer, every customer ordered from most to least related (itself first, depot excluded):
    distance weighs 9, time-window centre 3, demand 2, each scaled to its range (Ropke and Pisinger)."""
    n = len(problem.demand)
    c = problem.cost_matrix.astype(float)
    dist = (c + c.T) / 2
    centre = (problem.ready + problem.due).astype(float) / 2
    q = problem.demand.astype(float)

    def scaled(m: np.ndarray) -> np.ndarray:
        span = float(m[1:, 1:].max())
        return m / span if span > 0 else m

    rel = (9 * scaled(dist) + 3 * scaled(np.abs(centre[:, None] - centre[None, :]))
           + 2 * scaled(np.abs(q[:, None] - q[None, :])))
    rel[:, 0] = np.inf
    order = np.argsort(rel, axis=1, kind="stable")[:, : n - 1]
    order[0] = np.arange(1, n)
    return order


def shaw_removal(order: np.ndarray, k: int, greediness: float, rng: np.random.Generator) -> set[int]:
    """``k`` customers: a random one, then repeatedly one related to a random already-removed one, picked
    near the top of its order (position ``u ** greediness`` of the remaining ones, u uniform)."""
    n_customers = order.shape[0] - 1
    k = min(k, n_customers)
    removed = [int(rng.integers(1, n_customers + 1))]
    taken = set(removed)
    while len(removed) < k:
        ref = removed[int(rng.integers(len(removed)))]
        free = [int(x) for x in order[ref] if int(x) not in taken]
        pick = free[int(len(free) * rng.random() ** greediness)]
        removed.append(pick)
        taken.add(pick)
    return taken


class _Repairer:
    """One closed OR-Tools model of the problem in which every customer may be left out (at the drop
    penalty), so a partial plan is a valid start; its greedy descent re-inserts and polishes."""

    def __init__(self, problem: VrptwProblem, step_s: float, disabled_operators: tuple[str, ...] = ()) -> None:
        self.problem = problem
        n = len(problem.demand)
        self.manager = pywrapcp.RoutingIndexManager(n, problem.vehicles, 0)
        self.routing = routing = pywrapcp.RoutingModel(self.manager)
        cost_cb = routing.RegisterTransitMatrix(problem.cost_matrix.astype(np.int64).tolist())
        routing.SetArcCostEvaluatorOfAllVehicles(cost_cb)
        if problem.fixed_cost:
            routing.SetFixedCostOfAllVehicles(int(problem.fixed_cost))
        demand_cb = routing.RegisterUnaryTransitVector(problem.demand.astype(np.int64).tolist())
        routing.AddDimensionWithVehicleCapacity(demand_cb, 0, [int(problem.capacity)] * problem.vehicles,
                                                True, "load")
        time_matrix = problem.travel.astype(np.int64) + problem.service.astype(np.int64)[:, None]
        time_cb = routing.RegisterTransitMatrix(time_matrix.tolist())
        horizon = int(problem.due.max())
        routing.AddDimension(time_cb, horizon, horizon, False, "time")
        time = routing.GetDimensionOrDie("time")
        for node in range(1, n):
            index = self.manager.NodeToIndex(node)
            time.CumulVar(index).SetRange(int(problem.ready[node]), int(problem.due[node]))
            routing.AddDisjunction([index], DROP_PENALTY)
        for v in range(problem.vehicles):
            time.CumulVar(routing.Start(v)).SetRange(int(problem.ready[0]), int(problem.due[0]))
            time.CumulVar(routing.End(v)).SetRange(int(problem.ready[0]), int(problem.due[0]))
        self.params = pywrapcp.DefaultRoutingSearchParameters()
        self.params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION
        self.params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
        for name in disabled_operators:
            setattr(self.params.local_search_operators, name, optional_boolean_pb2.BOOL_FALSE)
        self.params.time_limit.FromMilliseconds(max(1, int(step_s * 1000)))
        routing.CloseModelWithParameters(self.params)

    def repair(self, partial: Routes, seconds: float) -> Routes | None:
        routing, manager = self.routing, self.manager
        start = routing.ReadAssignmentFromRoutes([[manager.NodeToIndex(c) for c in r] for r in partial], True)
        if start is None:
            return None
        self.params.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
        found = routing.SolveFromAssignmentWithParameters(start, self.params)
        if found is None:
            return None
        routes = []
        for v in range(self.problem.vehicles):
            index = found.Value(routing.NextVar(routing.Start(v)))
            route = []
            while not routing.IsEnd(index):
                route.append(manager.IndexToNode(index))
                index = found.Value(routing.NextVar(index))
            if route:
                routes.append(tuple(route))
        return tuple(routes)


def improve(problem: VrptwProblem, start: VrptwSolution, seconds: float,
            config: ImproveConfig | None = None) -> VrptwSolution:
    """The best plan found from ``start`` within ``seconds``: never one that leaves out more customers
    than ``start`` does, nor, serving as many, one that costs more."""
    config = config or ImproveConfig()
    t0 = _time.perf_counter()
    deadline = t0 + seconds
    if problem.n_customers < 2 or not start.routes:
        return start
    rng = np.random.default_rng(config.seed)
    order = relatedness_order(problem)
    repairer = _Repairer(problem, config.step_s, config.disabled_operators)
    n = len(problem.demand)

    def rank(routes: Routes) -> tuple[int, int]:
        return n - 1 - sum(len(r) for r in routes), route_cost(problem, routes)

    current = best = start.routes
    current_rank = best_rank = rank(start.routes)
    lo, hi = config.removed
    while (now := _time.perf_counter()) < deadline - 0.02:
        k = int(rng.integers(lo, hi + 1))
        removed = shaw_removal(order, k, config.greediness, rng)
        partial = tuple(r for r in (tuple(c for c in route if c not in removed) for route in current) if r)
        found = repairer.repair(partial, min(config.step_s, deadline - now))
        if found is None:
            continue
        found_rank = rank(found)
        if found_rank[0] > current_rank[0]:
            continue
        temperature = config.temperature * best_rank[1] * (deadline - now) / seconds
        worse = found_rank[1] - current_rank[1]
        if found_rank < current_rank or (
                temperature > 0 and found_rank[0] == current_rank[0]
                and rng.random() < math.exp(-worse / temperature)):
            current, current_rank = found, found_rank
            if current_rank < best_rank:
                best, best_rank = current, current_rank
    served = {c for r in best for c in r}
    return VrptwSolution(routes=best, cost=best_rank[1], unserved=tuple(c for c in range(1, n) if c not in served),
                         status="solved")
