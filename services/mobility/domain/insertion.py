"""Answer each ride request as it comes: the cheapest feasible insertion of its pick-up and drop-off into
one vehicle's plan, found within a time budget.

Why it is fast: a vehicle can reach the pick-up no earlier than ``free_at + fastest[place, origin]``
(travel times are shortest paths at the day's best speeds, so no detour arrives sooner); that bound,
computed for the whole fleet in one numpy step, discards the vehicles that cannot make the window and
orders the rest nearest first. Only the ``max_candidates`` nearest are tried, and the search stops at
``budget_s`` with the best found.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from services.mobility.domain.fleet import (
    DROPOFF,
    PICKUP,
    Limits,
    RideRequest,
    Stop,
    Vehicle,
    fastest,
    simulate,
)


@dataclass(frozen=True)
class Insertion:
    vehicle: int          # index in the fleet list
    pickup_at: int        # position of the pick-up in the new plan
    dropoff_at: int
    added_travel: int
    pickup_time: int
    dropoff_time: int


def request_stops(req: RideRequest, direct: int, limits: Limits) -> tuple[Stop, Stop, int]:
    """The pick-up and drop-off stops of a new request, and its maximum ride time."""
    ride = limits.max_ride(direct)
    latest_pickup = req.latest_arrival - direct - limits.service
    pickup = Stop(req.id, PICKUP, req.origin, req.earliest_pickup, latest_pickup, req.party, limits.service)
    dropoff = Stop(req.id, DROPOFF, req.destination, req.earliest_pickup + limits.service + direct,
                   req.latest_arrival, -req.party, limits.service)
    return pickup, dropoff, ride


def candidate_order(fleet: list[Vehicle], req: RideRequest, latest_pickup: int, travel: np.ndarray,
                    places: np.ndarray, free_at: np.ndarray) -> np.ndarray:
    """Indices of vehicles that might reach the pick-up in time, nearest (by the lower bound) first."""
    bound = free_at + fastest(travel)[places, req.origin]
    fits = bound <= latest_pickup
    if req.party > 1 or req.wheelchair:
        fits &= np.array([v.capacity >= req.party and (v.wheelchair or not req.wheelchair) for v in fleet])
    idx = np.flatnonzero(fits)
    return idx[np.argsort(bound[idx], kind="stable")]


def best_insertion(vehicle: Vehicle, index: int, pickup: Stop, dropoff: Stop, travel: np.ndarray,
                   max_ride: dict[str, int], append_only: bool = False) -> Insertion | None:
    """Cheapest (least added driving) feasible place for the pair in this vehicle's plan."""
    if vehicle.capacity < pickup.load:
        return None
    stops = vehicle.stops
    base = simulate(vehicle, stops, travel, max_ride)
    if not base.feasible:
        return None
    m = len(stops)
    # A co-owned car takes a ride only as a trip of its own after its plan: each trip is booked in its
    # members' book as it is accepted, so an earlier one may not grow.
    first = m if append_only or vehicle.home is not None else (1 if vehicle.locked else 0)
    best: Insertion | None = None
    for i in range(first, m + 1):
        for j in range(i, m + 1):
            plan = [*stops[:i], pickup, *stops[i:j], dropoff, *stops[j:]]
            sched = simulate(vehicle, plan, travel, max_ride)
            if not sched.feasible:
                if sched.reason.startswith(f"{PICKUP} of {pickup.request}"):
                    break  # the pick-up itself is late: later drop-off positions cannot help
                continue
            added = sched.travel - base.travel
            if best is None or added < best.added_travel:
                best = Insertion(index, i, j + 1, added, sched.times[i], sched.times[j + 1])
    return best


def find_insertion(fleet: list[Vehicle], req: RideRequest, pickup: Stop, dropoff: Stop, travel: np.ndarray,
                   max_ride: dict[str, int], *, max_candidates: int = 40, budget_s: float = 0.15,
                   append_only: bool = False, first_feasible: bool = False) -> Insertion | None:
    """Best insertion over the nearest candidates, within ``budget_s`` seconds of wall time."""
    t0 = time.perf_counter()
    places = np.fromiter((v.place for v in fleet), dtype=np.int64, count=len(fleet))
    free_at = np.fromiter((v.free_at for v in fleet), dtype=np.int64, count=len(fleet))
    order = candidate_order(fleet, req, pickup.latest, travel, places, free_at)
    best: Insertion | None = None
    for k in order[:max_candidates]:
        found = best_insertion(fleet[int(k)], int(k), pickup, dropoff, travel, max_ride, append_only)
        if found is not None and (best is None or found.added_travel < best.added_travel):
            best = found
            if first_feasible:
                break
        if time.perf_counter() - t0 > budget_s:
            break
    return best


def apply_insertion(vehicle: Vehicle, ins: Insertion, pickup: Stop, dropoff: Stop) -> None:
    """Put the pair into the plan at the positions found (``dropoff_at`` counts the pick-up)."""
    stops = vehicle.stops
    stops.insert(ins.pickup_at, pickup)
    stops.insert(ins.dropoff_at, dropoff)
