"""Ruin and recreate for VRPTW: improves a plan by removing related customers and putting them back.

Guided local search from one start stalls in its first basin (see ``vrptw``); this phase leaves it. Each
step removes 5 to 20 customers from the current plan by Shaw removal (a random customer, then ones
related to those already out: near in space, in time window and in demand; randomised); string removal
(runs of consecutive customers cut from the routes nearest a random customer, as in slack induction by
string removals) is an option that measured no better on Solomon R1 and RC1. One step in fifty empties a
short route instead and puts its customers back into the other routes only, keeping the plan whatever it
costs when all of them fit: a vehicle less, which cheaper steps alone rarely reach. A step then puts the
removed back one by one where each adds the least cost (in one of four orders drawn at random, each position
skipped with a small probability), checking time windows and capacity in O(1) per position, all positions
of all routes at once in numpy. It then applies the improving relocate, swap and 2-opt* moves between two
routes until none pays (``vrptw_interroute``: every move touching a changed route scored at once, the
same O(1) checks), which repairs what one-at-a-time insertion leaves: a customer in the wrong route, two
route tails crossed; and reorders each route it changed by or-opt (runs of one to three customers moved,
or reversed, within their route, checked the same way). A step's plan replaces the
current one when it serves as many customers and is cheaper, or, with a probability that falls as the
search nears its deadline, when it is a little worse (simulated annealing); the best plan is kept. A step
costs a few milliseconds for 100 customers, so 10 s give a thousand or more of them: far more than
polishing each one with OR-Tools' local search (``polish``) allows, which measured worse at equal time.
The inter-route moves make a step about 1.6x as slow (profiled on R104) and pay for it: on Solomon R1 and
RC1 (20 instances, 10 s, side by side) the mean gap went from 2.61 % to 0.91 %; on all of C1, R1 and
RC1 (29 instances, 10 s, ``bench.routing``) it is 0.56 % and 0.39 % in two runs (max 2.25 %, 1.55 %)
against PyVRP's 0.34 % and 0.26 % in the same runs, 1.7x and 1.5x, all feasible, every C1 optimal
(before: 0.73-0.98 %, 2.8-3.8x PyVRP's). Annealing from 1 % or 0.25 % of the best cost instead of
0.5 % measured worse side by side on R1+RC1 (1.08 % and 1.02 % against 0.90 % and 0.86 %).

Randomness comes from ``seed`` alone; what a run returns also depends on how many steps fit in the
time given, as for every time-limited search here.
"""

from __future__ import annotations

import itertools
import math
import time as _time
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from services.logistics.domain.vrptw import DROP_PENALTY, VrptwProblem, VrptwSolution
from services.logistics.domain.vrptw_interroute import InterRoute

Routes = tuple[tuple[int, ...], ...]
_NEVER = np.iinfo(np.int64).max  # the extra cost of a position a customer cannot take


@dataclass(frozen=True)
class ImproveConfig:
    """``removed`` bounds how many customers Shaw removal takes out (at most all), ``greediness`` > 1
    makes it stick to the most related (its exponent); string removal (``ruin="strings"``, or half of
    the steps with ``"mixed"``) takes about ``avg_removed`` in runs of at most ``max_string``; a share
    ``route_removal`` of the steps empties one short route instead (kept when its customers all fit in
    the other routes). ``reorder`` is the longest run or-opt moves within each changed route (0: none).
    ``inter_route`` runs relocate, swap and 2-opt* between routes on each rebuilt plan.
    A worse plan is accepted with probability exp(-extra / T), T falling linearly from ``temperature``
    times the best cost so far to 0 at the deadline. ``blink`` is the chance to skip a feasible position
    when putting a customer back. ``polish`` runs OR-Tools' greedy descent on each rebuilt plan, for at
    most ``step_s``."""

    removed: tuple[int, int] = (5, 20)
    step_s: float = 0.3
    temperature: float = 0.005
    greediness: float = 6.0
    seed: int = 0
    polish: bool = False
    blink: float = 0.01
    ruin: str = "shaw"
    avg_removed: float = 10.0
    max_string: int = 10
    route_removal: float = 0.02
    reorder: int = 3
    inter_route: bool = True


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


def nearest_order(problem: VrptwProblem) -> np.ndarray:
    """Per node, the customers from nearest to farthest (by the symmetrised cost; itself first)."""
    c = problem.cost_matrix.astype(float)
    dist = (c + c.T) / 2
    np.fill_diagonal(dist, -1.0)
    dist[:, 0] = np.inf
    return np.argsort(dist, axis=1, kind="stable")[:, : len(problem.demand) - 1]


def shaw_removal(order: np.ndarray | list[list[int]], k: int, greediness: float,
                 rng: np.random.Generator) -> set[int]:
    """``k`` customers: a random one, then repeatedly one related to a random already-removed one, picked
    near the top of its order (position ``u ** greediness`` of the remaining ones, u uniform)."""
    n_customers = len(order) - 1
    k = min(k, n_customers)
    removed = [int(rng.integers(1, n_customers + 1))]
    taken = set(removed)
    while len(removed) < k:
        ref = removed[int(rng.integers(len(removed)))]
        skip = int((n_customers - len(taken)) * rng.random() ** greediness)  # among the ones not out yet
        for x in order[ref]:
            if x not in taken:
                if skip == 0:
                    pick = int(x)
                    break
                skip -= 1
        removed.append(pick)
        taken.add(pick)
    return taken


def string_removal(routes: Routes, near: np.ndarray, avg_removed: float, max_string: int,
                   rng: np.random.Generator) -> set[int]:
    """Slack induction by string removals (Christiaens and Vanden Berghe): from a random customer's
    nearest neighbours outwards, cut one string of consecutive customers around each of up to k of them
    from as many distinct routes; k and the string lengths are drawn so about ``avg_removed`` go."""
    where = {c: (r, i) for r, route in enumerate(routes) for i, c in enumerate(route)}
    if not where:
        return set()
    mean_len = sum(len(r) for r in routes) / max(1, sum(1 for r in routes if r))
    l_max = max(1.0, min(float(max_string), mean_len))
    k_max = 4 * avg_removed / (1 + l_max) - 1
    k = int(rng.uniform(1, k_max + 1))
    seed = int(rng.integers(1, near.shape[0]))
    removed: set[int] = set()
    ruined: set[int] = set()
    for c in near[seed]:
        if len(ruined) >= k:
            break
        c = int(c)
        if c in removed or c not in where or where[c][0] in ruined:
            continue
        r, i = where[c]
        route = routes[r]
        length = int(rng.uniform(1, min(len(route), l_max) + 1))
        first = int(rng.integers(max(0, i - length + 1), min(i, len(route) - length) + 1))
        removed.update(route[first:first + length])
        ruined.add(r)
    return removed


def route_removal(routes: Routes, rng: np.random.Generator) -> set[int]:
    """Every customer of one route, drawn with weight 1 / its length squared (short routes first): put
    back without opening a route where they fit, this is how a plan sheds a vehicle."""
    sizes = np.array([len(r) for r in routes], float)
    weights = np.where(sizes > 0, 1 / np.maximum(sizes, 1) ** 2, 0)
    pick = int(rng.choice(len(routes), p=weights / weights.sum()))
    return set(routes[pick])


class _Inserter:
    """Greedy insertion of customers into routes, checked against windows and capacity in O(1) per
    position from each route's earliest service starts (forward) and latest ones (backward); all the
    positions of all routes are scored at once."""

    def __init__(self, problem: VrptwProblem) -> None:
        self.problem = problem
        self.cost = problem.cost_matrix.astype(np.int64)
        self.transit = problem.travel.astype(np.int64) + problem.service.astype(np.int64)[:, None]
        self.ready = problem.ready.astype(np.int64)
        self.due = problem.due.astype(np.int64)
        self.demand = problem.demand.astype(np.int64)
        self._transit = self.transit.tolist()
        self._ready = self.ready.tolist()
        self._due = self.due.tolist()
        self._cost = self.cost.tolist()
        self._cache: dict[tuple[int, ...], np.ndarray] = {}
        self._reordered: dict[tuple[int, ...], tuple[int, ...]] = {}
        self.cost_to = np.ascontiguousarray(self.cost.T)  # row c: the cost of reaching c from each node
        self.transit_to = np.ascontiguousarray(self.transit.T)

    def _positions(self, route: list[int]) -> np.ndarray:
        """For each gap of ``[0, *route, 0]`` (columns): the stop before, the stop after, the earliest
        service start before and the latest one after (rows); remembered per route."""
        key = tuple(route)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if len(self._cache) > 20000:
            self._cache.clear()
        transit, ready, due = self._transit, self._ready, self._due
        path = [0, *route, 0]
        m = len(path)
        early = [ready[0]] * m
        for k in range(1, m):
            early[k] = max(ready[path[k]], early[k - 1] + transit[path[k - 1]][path[k]])
        late = [due[0]] * m
        for k in range(m - 2, -1, -1):
            late[k] = min(due[path[k]], late[k + 1] - transit[path[k]][path[k + 1]])
        out = np.array([path[:-1], path[1:], early[:-1], late[1:]], np.int64)
        self._cache[key] = out
        return out

    def insert(self, routes: list[list[int]], customers: list[int], blink: float,
               rng: np.random.Generator, open_routes: bool = True,
               max_routes: int | None = None) -> list[int]:
        """Puts each of ``customers`` (in that order) where it adds least cost, skipping each position
        with probability ``blink``; opens a route when a vehicle is free and that is cheaper (with
        ``open_routes``; else only when the customer fits nowhere). Returns the customers that fit
        nowhere."""
        problem = self.problem
        cost, transit, demand = self.cost, self.transit, self.demand
        cost_to, transit_to = self.cost_to, self.transit_to
        ready, due = self._ready, self._due
        capacity = int(problem.capacity)
        gaps = [self._positions(r) for r in routes]
        loads = [int(demand[r].sum()) if r else 0 for r in routes]
        left = []
        stale = True
        for c in customers:
            if stale:
                pred, succ, early, late = np.concatenate(gaps, axis=1) if gaps else np.zeros((4, 0), np.int64)
                sizes = [g.shape[1] for g in gaps]
                owner = np.repeat(np.arange(len(gaps)), sizes)
                first = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
                room = (capacity - np.asarray(loads, np.int64))[owner]
                base = cost[pred, succ]
                stale = False
            best_extra, best_route, best_at = None, -1, 0
            if len(pred):
                start = np.maximum(early + transit_to[c][pred], ready[c])
                ok = (start <= due[c]) & (start + transit[c][succ] <= late) & (room >= demand[c])
                if blink > 0:
                    ok &= rng.random(len(ok)) >= blink
                if ok.any():
                    extra = cost_to[c][pred] + cost[c][succ] - base
                    extra[~ok] = _NEVER
                    at = int(np.argmin(extra))
                    best_extra, best_route = int(extra[at]), int(owner[at])
                    best_at = at - int(first[best_route])
            limit = problem.vehicles if max_routes is None else min(max_routes, problem.vehicles)
            if len(routes) < limit and (open_routes or best_extra is None):
                start0 = max(ready[c], ready[0] + int(transit[0, c]))
                if start0 <= due[c] and start0 + int(transit[c, 0]) <= due[0]:
                    extra0 = int(cost[0, c] + cost[c, 0]) + int(problem.fixed_cost)
                    if best_extra is None or extra0 < best_extra:
                        best_extra, best_route, best_at = extra0, len(routes), 0
            if best_extra is None:
                left.append(c)
                continue
            if best_route == len(routes):
                routes.append([])
                loads.append(0)
                gaps.append(self._positions([]))  # replaced just below
            routes[best_route].insert(best_at, c)
            loads[best_route] += int(demand[c])
            gaps[best_route] = self._positions(routes[best_route])
            stale = True
        return left


    def reorder(self, route: list[int] | tuple[int, ...], max_segment: int = 3) -> tuple[int, ...]:
        """``route`` with its stops reordered by or-opt until no move pays: a run of up to
        ``max_segment`` consecutive customers, kept or reversed, moved to the gap of the rest of the
        route where the route costs least and keeps every window (the same O(1) check per gap as
        ``insert``, all gaps at once); remembered per route."""
        key = tuple(route)
        hit = self._reordered.get(key)
        if hit is not None:
            return hit
        if len(self._reordered) > 20000:
            self._reordered.clear()
        cost, transit, ready, due = self._cost, self._transit, self._ready, self._due
        transit_to, cost_to = self.transit_to, self.cost_to
        current = list(key)
        while len(current) > 1:
            path = [0, *current, 0]
            best_gain, best_route = 0, None
            for length in range(1, min(max_segment, len(current) - 1) + 1):
                for i in range(1, len(path) - length):
                    segment = path[i:i + length]
                    before, after = path[i - 1], path[i + length]
                    inner = sum(cost[a][b] for a, b in itertools.pairwise(segment))
                    gain = cost[before][segment[0]] + cost[segment[-1]][after] + inner - cost[before][after]
                    rest = current[:i - 1] + current[i - 1 + length:]
                    pred, succ, early, late = self._positions(rest)
                    base = self.cost[pred, succ]
                    for seq in (segment, segment[::-1]) if length > 1 else (segment,):
                        inner_seq = sum(cost[a][b] for a, b in itertools.pairwise(seq))
                        extra = cost_to[seq[0]][pred] + self.cost[seq[-1]][succ] - base + inner_seq
                        delta = extra - gain
                        ok = delta < -best_gain
                        if not ok.any():
                            continue
                        t = np.maximum(early + transit_to[seq[0]][pred], ready[seq[0]])
                        ok &= t <= due[seq[0]]
                        for a, b in itertools.pairwise(seq):
                            t = np.maximum(t + transit[a][b], ready[b])
                            ok &= t <= due[b]
                        ok &= t + self.transit[seq[-1]][succ] <= late
                        if not ok.any():
                            continue
                        delta = np.where(ok, delta, _NEVER)
                        at = int(np.argmin(delta))
                        best_gain = -int(delta[at])
                        best_route = rest[:at] + list(seq) + rest[at:]
            if best_route is None:
                break
            current = best_route
        out = tuple(current)
        self._reordered[key] = out
        return out


class _Repairer:
    """One closed OR-Tools model of the problem in which every customer may be left out (at the drop
    penalty), so a partial plan is a valid start; its greedy descent re-inserts and polishes."""

    def __init__(self, problem: VrptwProblem, step_s: float) -> None:
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


def _insertion_order(problem: VrptwProblem, removed: set[int], rng: np.random.Generator) -> list[int]:
    """The removed customers in one of four orders, drawn at random: random, largest demand first,
    farthest from the depot first, narrowest window first (as string removal and recreate does)."""
    out = sorted(removed)
    how = int(rng.integers(4))
    if how == 0:
        rng.shuffle(out)
    elif how == 1:
        out.sort(key=lambda c: -int(problem.demand[c]))
    elif how == 2:
        out.sort(key=lambda c: -int(problem.cost_matrix[0, c]))
    else:
        out.sort(key=lambda c: int(problem.due[c] - problem.ready[c]))
    return out


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
    order = relatedness_order(problem).tolist()
    near = nearest_order(problem)
    repairer: _Repairer | None = None  # built on first use: only ``polish`` needs OR-Tools here
    inserter = _Inserter(problem)
    inter = InterRoute(problem) if config.inter_route else None
    n = len(problem.demand)
    everyone = set(range(1, n))

    cost = problem.cost_matrix.astype(np.int64)

    def rank(routes: Routes) -> tuple[int, int]:
        """Customers left out, then the plan's cost (as ``route_cost``, in one numpy sum)."""
        stops, used = [0], 0
        for r in routes:
            if r:
                stops.extend(r)
                stops.append(0)
                used += 1
        path = np.array(stops)
        served = len(stops) - 1 - used
        return n - 1 - served, int(cost[path[:-1], path[1:]].sum()) + used * problem.fixed_cost

    current = best = start.routes
    current_rank = best_rank = rank(start.routes)
    lo, hi = config.removed
    while (now := _time.perf_counter()) < deadline - 0.02:
        open_routes, eliminating = True, False
        if config.route_removal > 0 and len(current) > 1 and rng.random() < config.route_removal:
            removed = route_removal(current, rng)
            open_routes, eliminating = False, True
        elif config.ruin == "strings" or (config.ruin == "mixed" and rng.random() < 0.5):
            removed = string_removal(current, near, config.avg_removed, config.max_string, rng)
        else:
            removed = shaw_removal(order, int(rng.integers(lo, hi + 1)), config.greediness, rng)
        if current_rank[0]:  # customers left out so far are offered again every time
            removed |= everyone - {c for r in current for c in r}
        rebuilt = [[c for c in route if c not in removed] for route in current]
        rebuilt = [r for r in rebuilt if r]
        left = inserter.insert(rebuilt, _insertion_order(problem, removed, rng), config.blink, rng, open_routes,
                               len(rebuilt) if eliminating else None)
        if eliminating and left:
            continue
        kept_routes = set(current)
        if inter is not None:
            rebuilt, _ = inter.optimise(rebuilt, {k for k, r in enumerate(rebuilt) if tuple(r) not in kept_routes})
        if config.reorder:
            rebuilt = [r if tuple(r) in kept_routes else list(inserter.reorder(r, config.reorder))
                       for r in rebuilt]
        found: Routes | None = tuple(tuple(r) for r in rebuilt if r)
        if config.polish and found is not None:
            repairer = repairer or _Repairer(problem, config.step_s)
            found = repairer.repair(found, min(config.step_s, deadline - now)) or found
        if found is None:
            continue
        found_rank = rank(found)
        if found_rank[0] > current_rank[0]:
            continue
        temperature = config.temperature * best_rank[1] * (deadline - now) / seconds
        if found_rank < current_rank or (eliminating and found_rank[0] == current_rank[0]) or (
                temperature > 0 and found_rank[0] == current_rank[0]
                and rng.random() < math.exp(-(found_rank[1] - current_rank[1]) / temperature)):
            current, current_rank = found, found_rank
            if current_rank < best_rank:
                best, best_rank = current, current_rank
    served = {c for r in best for c in r}
    kept = tuple(r for r in best if r)  # identical vehicles: route k is vehicle k's
    return VrptwSolution(routes=kept, cost=best_rank[1], unserved=tuple(c for c in range(1, n) if c not in served),
                         status="solved", vehicles=tuple(range(len(kept))))
