"""Turn the day's demand into duties: stretches of work that leave the fleet depot and come back to it.

Rides: one dial-a-ride problem per stretch of the day (the mobility core's OR-Tools DARP; at most
``RIDES_PER_DARP`` requests each, cut at the requests' times, so each search reaches its local optimum in a
few seconds), every request optional at a large penalty, each vehicle leaving the depot once at a cost (so
few vehicles carry the day); each route is then cut where the vehicle is empty long enough to drive back,
plug in for a block and drive out again.
Parcels: one VRPTW per depot and delivery window (the logistics core), each round from the depot and back,
plus the legs between the fleet depot and the mall. Both plans (joint and domains alone) get the same duties,
so the same riders and parcels are served on the same routes; what differs is who drives which duty.

Every search runs to its local optimum (greedy descent) well inside its time limit, so the same seed gives
the same routes on any machine that is not overloaded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from services.logistics.domain import check as vrptw_check
from services.logistics.domain.fees import delivery_fee
from services.logistics.domain.planner import SERVICE_S as HANDOVER_S
from services.logistics.domain.vrptw import SearchConfig, VrptwProblem
from services.logistics.domain.vrptw import solve as solve_vrptw
from services.mobility.domain import check as darp_check
from services.mobility.domain import darp
from services.mobility.domain.fares import FarePolicy
from services.mobility.domain.fleet import RideRequest
from simulator.fleet_day.demand import BLOCK_S, Day
from simulator.fleet_day.params import FleetDayParams

RIDE, PARCEL = "ride", "parcel"
STOP_S = 60           # boarding or alighting
LOAD_S = 600          # loading a round's parcels at the mall
DEPARTURE_COST = 3600  # DARP: per vehicle leaving the depot, in seconds of driving it is worth
LOCAL_SEARCH = "GREEDY_DESCENT"
RIDES_PER_DARP = 30


@dataclass(frozen=True)
class Duty:
    id: str
    kind: str                  # RIDE or PARCEL
    start_s: int               # leaves the fleet depot
    end_s: int                 # back at the fleet depot
    metres: int
    served: tuple[str, ...]    # request or parcel ids
    revenue_yen: int
    stops: tuple[tuple[str, int, int, int], ...] = ()   # (item id, place, planned time, window end)

    @property
    def first_block(self) -> int:
        return self.start_s // BLOCK_S

    @property
    def last_block(self) -> int:
        return (self.end_s - 1) // BLOCK_S

    def wh(self, wh_per_km: float) -> int:
        return math.ceil(self.metres / 1000 * wh_per_km)


@dataclass(frozen=True)
class DomainPlan:
    duties: tuple[Duty, ...]
    requested: int
    served: int
    violations: tuple[str, ...]   # from the domain's own independent checker (empty when every rule holds)


def _ride_problem(day: Day, p: FleetDayParams, rides: tuple[RideRequest, ...]) -> tuple[darp.DarpProblem, list[int]]:
    hub = day.hub
    r = len(rides)
    places = [hub, *[q.origin for q in rides], *[q.destination for q in rides]]
    travel = day.travel[np.ix_(places, places)].astype(np.int64)
    direct = np.array([int(day.travel[q.origin, q.destination]) for q in rides], dtype=np.int64)
    earliest = np.array([0, *[q.earliest_pickup for q in rides],
                         *[q.earliest_pickup + STOP_S + d for q, d in zip(rides, direct, strict=True)]], dtype=np.int64)
    latest = np.array([24 * 3600, *[q.latest_arrival - d - STOP_S for q, d in zip(rides, direct, strict=True)],
                       *[q.latest_arrival for q in rides]], dtype=np.int64)
    party = np.array([q.party for q in rides], dtype=np.int64)
    nv = max(2, math.ceil(r / 5))
    cost = travel.copy()
    cost[0, 1:r + 1] += DEPARTURE_COST
    problem = darp.DarpProblem(
        travel=travel, service=np.array([0] + [STOP_S] * 2 * r, dtype=np.int64), earliest=earliest, latest=latest,
        load=np.concatenate([[0], party, -party]).astype(np.int64), pickups=np.arange(1, r + 1),
        deliveries=np.arange(r + 1, 2 * r + 1), max_ride=direct + 60 * p.slack_min,
        starts=np.zeros(nv, dtype=np.int64), ends=np.zeros(nv, dtype=np.int64),
        capacity=np.full(nv, p.seats, dtype=np.int64), max_duration=np.full(nv, 24 * 3600, dtype=np.int64),
        cost=cost, optional=np.ones(r, dtype=bool))
    return darp.tighten_windows(problem), places


def _cut(route: tuple[int, ...], times: dict[int, int], problem: darp.DarpProblem) -> list[list[int]]:
    """Pieces of a route between which the vehicle is empty long enough to go back and charge a block."""
    t, s = problem.travel, problem.service
    pieces: list[list[int]] = [[]]
    load = 0
    for a, b in pairwise(route):
        pieces[-1].append(a)
        load += int(problem.load[a])
        gap = times[b] - times[a] - int(s[a])
        if load == 0 and gap >= int(t[a, 0]) + int(t[0, b]) + 2 * BLOCK_S:
            pieces.append([])
    if route:
        pieces[-1].append(route[-1])
    return [x for x in pieces if x]


def plan_rides(day: Day, p: FleetDayParams) -> DomainPlan:
    """The rides' duties (see the module docstring), checked by the mobility core's own checker."""
    n = len(day.rides)
    chunks = max(1, math.ceil(n / RIDES_PER_DARP))
    duties: list[Duty] = []
    violations: list[str] = []
    served = 0
    for k in range(chunks):
        part = day.rides[k * n // chunks:(k + 1) * n // chunks]
        if part:
            d, v, s = _plan_ride_part(day, p, part, k)
            duties += d
            violations += v
            served += s
    return DomainPlan(tuple(sorted(duties, key=lambda d: (d.start_s, d.id))), n, served, tuple(violations))


def _plan_ride_part(day: Day, p: FleetDayParams, rides: tuple[RideRequest, ...], part: int
                    ) -> tuple[list[Duty], list[str], int]:
    problem, places = _ride_problem(day, p, rides)
    solution = darp.solve(problem, p.darp_s, metaheuristic=LOCAL_SEARCH)
    verdict = darp_check.check_plan(problem, solution.routes, solution.unserved)
    r, fares, metres = len(rides), FarePolicy(), day.metres
    duties: list[Duty] = []
    for v, route in enumerate(solution.routes):
        for k, piece in enumerate(_cut(route, solution.times, problem)):
            first, last = piece[0], piece[-1]
            start = solution.times[first] - int(problem.travel[0, first])
            end = solution.times[last] + int(problem.service[last]) + int(problem.travel[last, 0])
            path = [0, *piece, 0]
            m = int(sum(int(metres[places[a], places[b]]) for a, b in pairwise(path)))
            picked = [n - 1 for n in piece if 1 <= n <= r]
            yen = sum(fares.fare_yen(int(metres[rides[i].origin, rides[i].destination]), rides[i].party, "shuttle")
                      for i in picked)
            stops = tuple((rides[(n - 1) % r].id, places[n], solution.times[n], int(problem.latest[n])) for n in piece)
            duties.append(Duty(f"ride-duty-{part}-{v:02d}-{k}", RIDE, start, end, m, tuple(rides[i].id for i in picked),
                               yen, stops))
    return duties, list(verdict.violations), r - len(solution.unserved)


def _wave(day: Day, p: FleetDayParams, ref: str, window: tuple[int, int], parcels: list[tuple[int, int, str, int]]
          ) -> tuple[list[Duty], list[str], int]:
    """One depot's parcels of one window: (duties, violations, parcels served)."""
    depot, hub = day.depots[ref], day.hub
    leave = window[0] - 2700          # the round leaves the mall 45 min before the window opens
    nodes = [depot, *[place for place, *_ in parcels]]
    travel = day.travel[np.ix_(nodes, nodes)].astype(np.int64)
    n = len(nodes)
    problem = VrptwProblem(
        travel=travel, demand=np.array([0, *[w for *_, w in parcels]], dtype=np.int64),
        ready=np.array([0] + [window[0] - leave] * (n - 1), dtype=np.int64),
        due=np.array([window[1] - leave + 3600] + [window[1] - leave] * (n - 1), dtype=np.int64),
        service=np.array([0] + [HANDOVER_S] * (n - 1), dtype=np.int64), capacity=p.cargo_kg * 1000,
        vehicles=n - 1, fixed_cost=DEPARTURE_COST)
    solution = solve_vrptw(problem, p.vrptw_s, allow_drop=True, config=SearchConfig(metaheuristic=LOCAL_SEARCH))
    verdict = vrptw_check.check_routes(problem, solution.routes, solution.unserved)
    duties = []
    for k, route in enumerate(solution.routes):
        clock, prev, stops = 0, 0, []
        for c in route:
            clock = max(clock + int(travel[prev, c]), int(problem.ready[c]))
            stops.append((parcels[c - 1][2], nodes[c], leave + clock, leave + int(problem.due[c])))
            clock, prev = clock + HANDOVER_S, c
        back = leave + clock + int(travel[prev, 0])
        path = [depot, *[nodes[c] for c in route], depot]
        m = int(day.metres[hub, depot] + sum(int(day.metres[a, b]) for a, b in pairwise(path)) + day.metres[depot, hub])
        ids = tuple(parcels[c - 1][2] for c in route)
        yen = sum(delivery_fee(parcels[c - 1][3] / 1000)[0] for c in route)
        duties.append(Duty(f"parcel-duty-{ref}-{window[0] // 3600:02d}-{k}", PARCEL,
                           leave - LOAD_S - int(day.travel[hub, depot]), back + int(day.travel[depot, hub]), m, ids,
                           yen, tuple(stops)))
    return duties, list(verdict.violations), n - 1 - len(solution.unserved)


def plan_parcels(day: Day, p: FleetDayParams) -> DomainPlan:
    """Rounds per depot and delivery window, checked by the logistics core's own checker."""
    duties: list[Duty] = []
    violations: list[str] = []
    served = 0
    for ref in sorted(day.depots):
        for window in sorted({(x.ready, x.due) for r, x in day.parcels if r == ref}):
            group = [(x.place, x.ready, x.id, x.weight_g) for r, x in day.parcels
                     if r == ref and (x.ready, x.due) == window]
            d, v, s = _wave(day, p, ref, window, group)
            duties += d
            violations += v
            served += s
    return DomainPlan(tuple(sorted(duties, key=lambda d: (d.start_s, d.id))), len(day.parcels), served,
                      tuple(violations))
