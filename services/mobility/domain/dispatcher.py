"""Streaming ride dispatch: every request gets an answer at once, and the open plan is re-optimised now
and then without breaking what riders were told.

An accepted rider is promised a pick-up window (the planned time +- ``Limits.promise_halfwidth``, inside
the window asked for), the latest arrival asked for and the maximum ride time; from then on those are the
request's hard limits, for every later insertion and every re-optimisation. A declined rider hears why,
and the nearest alternative: the earliest later pick-up the fleet could still offer, if any.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from services.mobility.domain.fares import FarePolicy
from services.mobility.domain.fleet import (
    DROPOFF,
    PICKUP,
    Limits,
    RideRequest,
    Stop,
    Vehicle,
    advance,
    at_hour,
    fastest,
)
from services.mobility.domain.insertion import (
    Insertion,
    apply_insertion,
    best_insertion,
    find_insertion,
    request_stops,
)
from services.mobility.domain.lending import JOB_SLACK, job_stops

ALTERNATIVE_SHIFTS = (900, 1800, 3600)  # later pick-ups tried for a declined rider, seconds


@dataclass(frozen=True)
class Answer:
    request: str
    accepted: bool
    vehicle: str | None = None
    pickup_window: tuple[int, int] | None = None
    planned_pickup: int | None = None
    planned_dropoff: int | None = None
    fare_yen: int | None = None
    reason: str = ""
    alternative_pickup: int | None = None   # earliest later pick-up that would be accepted, if any


@dataclass(frozen=True)
class Promise:
    pickup_window: tuple[int, int]
    latest_arrival: int
    max_ride: int
    vehicle: str


class Dispatcher:
    """Fleet state plus the two decisions: insert one request now; re-plan everything later."""

    def __init__(self, fleet: list[Vehicle], travel: np.ndarray, distance_m: np.ndarray | None = None,
                 limits: Limits | None = None, fares: FarePolicy | None = None, *, greedy: bool = False,
                 max_candidates: int = 40, budget_s: float = 0.15) -> None:
        self.fleet = fleet
        self.travel = travel
        self.distance_m = distance_m
        self.limits = limits or Limits()
        self.fares = fares or FarePolicy()
        self.greedy = greedy
        self.max_candidates = max_candidates
        self.budget_s = budget_s
        self.max_ride: dict[str, int] = {}
        self.promises: dict[str, Promise] = {}
        self.requests: dict[str, RideRequest] = {}
        self.completed: list[tuple[str, Stop, int]] = []   # (vehicle, stop, start time)
        self.jobs: dict[str, str] = {}   # delivery round -> the vehicle holding it (``reserve``)

    def advance(self, now: int) -> list[tuple[str, Stop, int]]:
        """Every vehicle moved to ``now``; returns the stops served since the last call."""
        done = []
        for v in self.fleet:
            done += [(v.id, stop, start) for stop, start in advance(v, now, self.travel, self.max_ride)]
        self.completed += done
        return done

    def decide(self, req: RideRequest, now: int) -> Answer:
        """Accept with the cheapest feasible insertion, or decline with the reason and an alternative."""
        if req.id in self.requests:
            return self._repeat(req.id)
        self.advance(now)
        if req.party <= 0:
            return Answer(req.id, False, reason="party size must be at least 1")
        if not any(v.capacity >= req.party and (v.wheelchair or not req.wheelchair) for v in self.fleet):
            return Answer(req.id, False, reason="no vehicle has room for this party"
                          + (" with a wheelchair place" if req.wheelchair else ""))
        req = replace(req, earliest_pickup=max(req.earliest_pickup, now))
        direct = int(at_hour(self.travel, req.earliest_pickup)[req.origin, req.destination])
        if req.earliest_pickup + direct + 2 * self.limits.service > req.latest_arrival:
            return Answer(req.id, False, reason="the latest arrival is earlier than the direct ride allows")
        pickup, dropoff, ride = request_stops(req, direct, self.limits)
        self.max_ride[req.id] = ride
        found = self._insert(req, pickup, dropoff)
        if found is None:
            alternative = self._alternative(req, direct)
            self.max_ride.pop(req.id)
            return Answer(req.id, False, reason="no vehicle can pick you up within your time window",
                          alternative_pickup=alternative)
        vehicle = self.fleet[found.vehicle]
        lo = max(pickup.earliest, found.pickup_time - self.limits.promise_halfwidth)
        hi = min(pickup.latest, found.pickup_time + self.limits.promise_halfwidth)
        promised_pickup = replace(pickup, earliest=lo, latest=hi)
        apply_insertion(vehicle, found, promised_pickup, dropoff)
        self.requests[req.id] = req
        self.promises[req.id] = Promise((lo, hi), req.latest_arrival, ride, vehicle.id)
        fare = self.fares.fare_yen(self._distance(req), req.party, vehicle.kind)
        return Answer(req.id, True, vehicle.id, (lo, hi), found.pickup_time, found.dropoff_time, fare)

    def reserve(self, job: str, vehicle_id: str, depot: int, start: int, end: int, now: int) -> str | None:
        """Hold a delivery round (at ``depot`` from ``start`` to ``end``) in one vehicle's plan, where it fits
        between its riders without moving any promise (``domain.lending``); None once held, else why not. The
        same job again is held already."""
        if job in self.jobs:
            return None if self.jobs[job] == vehicle_id else f"{job} is held on {self.jobs[job]}"
        index = next((k for k, v in enumerate(self.fleet) if v.id == vehicle_id), None)
        if index is None:
            return f"no vehicle {vehicle_id!r} in the fleet"
        vehicle = self.fleet[index]
        if vehicle.home is not None:
            return f"{vehicle_id} is a co-owned car: its rounds are booked in its group's book"
        self.advance(now)
        if start < now:
            return "the round would start in the past"
        if end > vehicle.shift_end:
            return f"the round ends after {vehicle_id}'s shift"
        pickup, dropoff = job_stops(job, vehicle, depot, start, end)
        self.max_ride[job] = JOB_SLACK
        found = best_insertion(vehicle, index, pickup, dropoff, self.travel, self.max_ride)
        if found is None:
            self.max_ride.pop(job)
            return f"{vehicle_id} has riders then, or cannot be at the depot by the round's start"
        apply_insertion(vehicle, found, pickup, dropoff)
        self.jobs[job] = vehicle_id
        return None

    def withdraw(self, request_id: str) -> None:
        """Take back an acceptance that could not be kept (its car's booking was refused) before anyone is
        told: its stops, promise and limits are gone, so deciding it again starts afresh."""
        for v in self.fleet:
            v.stops = [s for s in v.stops if s.request != request_id]
        for table in (self.promises, self.requests, self.max_ride):
            table.pop(request_id, None)

    def _insert(self, req: RideRequest, pickup: Stop, dropoff: Stop, share: float = 1.0) -> Insertion | None:
        return find_insertion(self.fleet, req, pickup, dropoff, self.travel, self.max_ride,
                              max_candidates=self.max_candidates, budget_s=self.budget_s * share,
                              append_only=self.greedy, first_feasible=self.greedy)

    def _alternative(self, req: RideRequest, direct: int) -> int | None:
        for shift in ALTERNATIVE_SHIFTS:
            later = replace(req, earliest_pickup=req.earliest_pickup + shift, latest_arrival=req.latest_arrival + shift)
            pickup, dropoff, _ = request_stops(later, direct, self.limits)
            found = self._insert(later, pickup, dropoff, share=0.1)  # any feasible one will do
            if found is not None:
                return found.pickup_time
        return None

    def _distance(self, req: RideRequest) -> int:
        if self.distance_m is not None:
            return int(self.distance_m[req.origin, req.destination])
        return int(fastest(self.travel)[req.origin, req.destination] * 25 / 3.6)  # 25 km/h when no distances given

    def _repeat(self, request_id: str) -> Answer:
        """A request seen before (redelivered) gets the same answer, not a second seat."""
        promise = self.promises.get(request_id)
        if promise is None:
            return Answer(request_id, False, reason="already answered")
        return Answer(request_id, True, promise.vehicle, promise.pickup_window)

    def stops_of(self, request_id: str) -> list[tuple[Vehicle, Stop]]:
        return [(v, s) for v in self.fleet for s in v.stops if s.request == request_id]

    def open_requests(self) -> set[str]:
        """Accepted requests whose drop-off is still to come."""
        return {s.request for v in self.fleet for s in v.stops if s.kind == DROPOFF}

    def promise_violations(self) -> list[str]:
        """Promises the current plans would break (an empty list is the invariant re-optimisation keeps)."""
        from services.mobility.domain.fleet import simulate

        out = []
        served = {s.request for _, s, _ in self.completed if s.kind == DROPOFF}
        planned: dict[str, dict[str, int]] = {}
        for v in self.fleet:
            sched = simulate(v, v.stops, self.travel, self.max_ride)
            if not sched.feasible:
                out.append(f"vehicle {v.id}: plan infeasible ({sched.reason})")
            for stop, t in zip(v.stops, sched.times, strict=False):
                planned.setdefault(stop.request, {})[stop.kind] = t
                if stop.request in self.promises and self.promises[stop.request].vehicle != v.id:
                    pass  # changing vehicle is allowed; the window and arrival are the promise
        for rid, promise in self.promises.items():
            if rid in served:
                continue
            times = planned.get(rid)
            if times is None or DROPOFF not in times:
                out.append(f"request {rid}: promised but no longer planned")
                continue
            if PICKUP in times and not promise.pickup_window[0] <= times[PICKUP] <= promise.pickup_window[1]:
                out.append(f"request {rid}: pick-up at {times[PICKUP]} outside {promise.pickup_window}")
            if times[DROPOFF] > promise.latest_arrival:
                out.append(f"request {rid}: arrives at {times[DROPOFF]} after {promise.latest_arrival}")
        return out
