"""Re-plan a depot's open parcels as they arrive: one VRPTW over its couriers, parcels that no courier can
deliver in their window left out with the reason, everyone else assigned to a round.

Couriers are planned as leaving the depot at the planning time (rounds start from the depot: a wave
that has left is not re-planned); times are seconds from the planning time, weights in 10 g units. Each
courier carries at most its own capacity and is back at the depot by the end of its own shift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from services.logistics.domain.vrptw import VrptwProblem, solve


@dataclass(frozen=True)
class Parcel:
    id: str
    place: int          # node in the travel matrix
    ready: int          # seconds of the day
    due: int
    weight_g: int


@dataclass(frozen=True)
class Courier:
    id: str
    capacity_g: int
    shift_end: int      # seconds of the day


@dataclass(frozen=True)
class Round:
    courier: str
    parcels: tuple[str, ...]
    times: tuple[int, ...]   # planned hand-over, seconds of the day


@dataclass(frozen=True)
class Plan:
    rounds: tuple[Round, ...]
    undeliverable: dict[str, str]   # parcel -> reason


SERVICE_S = 120  # hand-over at the door


def plan_depot(depot: int, parcels: list[Parcel], couriers: list[Courier], travel: np.ndarray, now: int,
               seconds: float = 0.5) -> Plan:
    """Best rounds for ``parcels`` from ``depot`` at ``now`` (see the module docstring)."""
    if not parcels or not couriers:
        return Plan((), {p.id: "no courier works at this depot" for p in parcels})
    heavy = {p.id: "heavier than any courier can carry" for p in parcels
             if p.weight_g > max(c.capacity_g for c in couriers)}
    late = {p.id: "its delivery window has already closed" for p in parcels if p.due < now + travel[depot, p.place]}
    last_shift = max(c.shift_end for c in couriers)
    after = {p.id: "its delivery window opens after every courier's shift ends" for p in parcels
             if p.id not in late and p.ready + travel[depot, p.place] > last_shift}
    late.update(after)
    usable = [p for p in parcels if p.id not in heavy and p.id not in late]
    if not usable:
        return Plan((), {**heavy, **late})
    nodes = [depot, *[p.place for p in usable]]
    sub = travel[np.ix_(nodes, nodes)].astype(np.int64)
    back_by = tuple(max(0, c.shift_end - now) for c in couriers)   # a shift already over: no round
    horizon = max(back_by)
    problem = VrptwProblem(
        travel=sub, demand=np.array([0, *[p.weight_g for p in usable]], dtype=np.int64),
        ready=np.array([0, *[max(0, p.ready - now) for p in usable]], dtype=np.int64),
        due=np.array([horizon, *[max(0, min(p.due - now, horizon)) for p in usable]], dtype=np.int64),
        service=np.array([0, *[SERVICE_S] * len(usable)], dtype=np.int64),
        capacity=max(c.capacity_g for c in couriers), vehicles=len(couriers),
        capacities=tuple(c.capacity_g for c in couriers), vehicle_due=back_by)
    solution = solve(problem, seconds, allow_drop=True)
    rounds = []
    for v, route in zip(solution.vehicles, solution.routes, strict=True):
        t, prev, times = 0, 0, []
        for node in route:
            t = max(t + int(sub[prev, node]), int(problem.ready[node]))
            times.append(now + t)
            t += SERVICE_S
            prev = node
        rounds.append(Round(couriers[v].id, tuple(usable[n - 1].id for n in route), tuple(times)))
    failed = {usable[n - 1].id: "no courier can reach it inside its window" for n in solution.unserved}
    return Plan(tuple(rounds), {**heavy, **late, **failed})
