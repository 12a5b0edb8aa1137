"""Ride vehicles lent to deliveries between rides: which idle stretches a vehicle offers, and a delivery round
held in its plan as one more job.

A round is held as a pick-up and a drop-off of its own at the depot: the pick-up at the round's start, with
the whole round as its service time, and the drop-off at its return. The pair takes every seat (its load is
the vehicle's capacity), so no rider can be aboard while the vehicle is away on the round, and nothing the
fleet's rules check needs a new case: insertion, the earliest-start schedule, re-optimisation (where the job is
pinned to its vehicle) and a restart from the published plan all treat it as they treat a ride whose windows
cannot move.

The offer is the vehicle's plan read backwards: every stretch in which it is empty and has nowhere to be,
from where its last drop-off leaves it until it must be at its next stop, clipped to the fleet's lending
hours (the midday lull; the peaks are for riders). An offer promises nothing: a rider may take the stretch
first, and the dispatcher decides each round when it is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from services.mobility.domain.fleet import DAY, DROPOFF, PICKUP, Stop, Vehicle, simulate

JOB_SLACK = 60   # seconds a round's return may run past its planned end


@dataclass(frozen=True)
class IdleWindow:
    start: int       # seconds of the service day: empty at ``start_place`` from then ...
    end: int         # ... until it must be at ``end_place`` (its next stop's planned start)
    start_place: int
    end_place: int


def job_stops(job: str, vehicle: Vehicle, depot: int, start: int, end: int) -> tuple[Stop, Stop]:
    """The round as the vehicle's plan holds it (see the module docstring)."""
    if end <= start:
        raise ValueError(f"job {job}: end must be after start")
    pickup = Stop(job, PICKUP, depot, start, start, vehicle.capacity, end - start)
    dropoff = Stop(job, DROPOFF, depot, end, end + JOB_SLACK, -vehicle.capacity, 0)
    return pickup, dropoff


def idle_windows(vehicle: Vehicle, travel: np.ndarray, max_ride: dict[str, int], lend_hours: tuple[int, int],
                 min_length: int) -> list[IdleWindow]:
    """The stretches of at least ``min_length`` seconds inside ``lend_hours`` (seconds of a day) in which
    ``vehicle`` is empty and idle as its plan stands; none for a co-owned car (its members' book lends it)."""
    if vehicle.home is not None:
        return []
    sched = simulate(vehicle, vehicle.stops, travel, max_ride)
    if not sched.feasible:
        return []
    stretches: list[tuple[int, int, int, int]] = []
    load = vehicle.load
    idle = (vehicle.free_at, vehicle.place) if load == 0 and not vehicle.locked else None
    for stop, t in zip(vehicle.stops, sched.times, strict=True):
        if idle is not None:
            stretches.append((idle[0], t, idle[1], stop.place))
        load += stop.load
        idle = (t + stop.service, stop.place) if load == 0 else None
    if idle is not None:
        stretches.append((idle[0], vehicle.shift_end, idle[1], idle[1]))
    out = []
    lo, hi = lend_hours
    for a, b, pa, pb in stretches:
        day = a // DAY * DAY
        start, end = max(a, day + lo), min(b, day + hi)
        if end - start >= min_length:
            out.append(IdleWindow(start, end, pa, pb))
    return out

