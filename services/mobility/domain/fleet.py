"""The live state of the fleet: ride requests, vehicles and their planned stops, and the timing rules
every plan must keep (pick-up windows, latest arrival, maximum ride time, seats, wheelchair places).

Times are integer seconds of the service day; places are indices into the travel-time matrix, which is
either one (n, n) matrix or one per hour of the day (24, n, n; the leg leaving at time t uses hour
t // 3600, so rush hours are slower). The
schedule of a plan is its earliest-start schedule (a vehicle leaves each stop at once and waits at the
next one if early); :func:`simulate` computes it and says whether every rule holds. Accepting a plan only
when that schedule is feasible is conservative: what is accepted can be driven as planned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PICKUP, DROPOFF = "pickup", "dropoff"
DAY = 86_400


def at_hour(travel: np.ndarray, t: int) -> np.ndarray:
    """The (n, n) matrix for a departure at ``t``."""
    return travel[(t // 3600) % 24] if travel.ndim == 3 else travel


def fastest(travel: np.ndarray) -> np.ndarray:
    """Elementwise lower bound over the day (the matrix itself when times do not vary)."""
    return travel.min(axis=0) if travel.ndim == 3 else travel


def slowest(travel: np.ndarray) -> np.ndarray:
    return travel.max(axis=0) if travel.ndim == 3 else travel


@dataclass(frozen=True)
class RideRequest:
    id: str
    origin: int
    destination: int
    earliest_pickup: int
    latest_arrival: int
    party: int = 1
    wheelchair: bool = False


@dataclass(frozen=True)
class Stop:
    request: str
    kind: str         # PICKUP or DROPOFF
    place: int
    earliest: int     # service may not start before
    latest: int       # nor after
    load: int         # seats taken (+) or freed (-)
    service: int      # seconds spent at the stop


@dataclass
class Vehicle:
    id: str
    place: int                    # where it is (or last was) at ``free_at``
    free_at: int                  # when it leaves ``place`` for its next stop
    capacity: int
    shift_end: int
    wheelchair: bool = False
    kind: str = "shuttle"
    stops: list[Stop] = field(default_factory=list)
    onboard: dict[str, int] = field(default_factory=dict)   # request -> party size of riders aboard
    picked_at: dict[str, int] = field(default_factory=dict)  # request -> end of its pick-up (ride starts)
    locked: bool = False          # on its way to ``stops[0]``: nothing may be put before it
    hours: tuple[int, int] | None = None  # daily shift (start, end) in seconds of a day; None: one shift only

    @property
    def load(self) -> int:
        return sum(self.onboard.values())


@dataclass(frozen=True)
class Limits:
    """The promise every accepted ride gets: how long it may take and how wide its pick-up window is."""

    max_ride_factor: float = 1.5   # ride time at most this times the direct time ...
    min_ride_slack: int = 600      # ... and never less than direct + this
    promise_halfwidth: int = 300   # the pick-up window told to the rider: planned time +- this
    service: int = 60              # boarding or alighting

    def max_ride(self, direct: int) -> int:
        return int(max(direct * self.max_ride_factor, direct + self.min_ride_slack))


@dataclass(frozen=True)
class Schedule:
    feasible: bool
    times: tuple[int, ...]        # start of service at each stop
    travel: int                   # seconds driven, from the vehicle's place through the last stop
    reason: str = ""


def simulate(vehicle: Vehicle, stops: list[Stop], travel: np.ndarray, max_ride: dict[str, int]) -> Schedule:
    """The earliest-start schedule of ``vehicle`` driving ``stops`` and whether it keeps every rule."""
    t, place, load, driven = vehicle.free_at, vehicle.place, vehicle.load, 0
    picked = dict(vehicle.picked_at)
    service_at_pickup: dict[str, int] = {}
    times: list[int] = []
    for stop in stops:
        leg = int(at_hour(travel, t)[place, stop.place])
        driven += leg
        start = max(t + leg, stop.earliest)
        if start > stop.latest:
            return Schedule(False, tuple(times), driven, f"{stop.kind} of {stop.request} late")
        load += stop.load
        if load > vehicle.capacity:
            return Schedule(False, tuple(times), driven, "over capacity")
        if stop.kind == PICKUP:
            picked[stop.request] = start
            service_at_pickup[stop.request] = stop.service
        elif stop.request in picked:  # aboard before this plan: picked_at is already the end of boarding
            ride = start - picked[stop.request] - service_at_pickup.get(stop.request, 0)
            if ride > max_ride[stop.request]:
                return Schedule(False, tuple(times), driven, f"ride of {stop.request} too long")
        times.append(start)
        t, place = start + stop.service, stop.place
    if stops and t > vehicle.shift_end:
        return Schedule(False, tuple(times), driven, "after the end of the shift")
    return Schedule(True, tuple(times), driven)


def shift_on_duty(hours: tuple[int, int], t: int) -> tuple[int, int]:
    """The shift (start, end) under way at ``t`` or, once today's has ended, tomorrow's: a vehicle works the
    same hours every day, so a service that runs for days (or starts at night) still has a fleet."""
    start, end = hours
    day = t // DAY * DAY
    if t >= day + end:
        day += DAY
    return day + start, day + end


def advance(vehicle: Vehicle, now: int, travel: np.ndarray, max_ride: dict[str, int]) -> list[tuple[Stop, int]]:
    """Move ``vehicle`` to ``now``: stops whose service ended by then are done (returned with their start
    times); a vehicle driving to its next stop is locked to it; an idle one waits where it is."""
    done: list[tuple[Stop, int]] = []
    while vehicle.stops:
        plan = simulate(vehicle, vehicle.stops[:1], travel, max_ride)
        start = plan.times[0] if plan.times else vehicle.free_at
        stop = vehicle.stops[0]
        if start + stop.service > now:
            break
        vehicle.stops.pop(0)
        vehicle.place, vehicle.free_at, vehicle.locked = stop.place, start + stop.service, False
        if stop.kind == PICKUP:
            vehicle.onboard[stop.request] = stop.load
            # The ride is measured from the end of boarding, as for a pick-up still in the plan.
            vehicle.picked_at[stop.request] = start + stop.service
        else:
            vehicle.onboard.pop(stop.request, None)
            vehicle.picked_at.pop(stop.request, None)
        done.append((stop, start))
    if vehicle.stops:
        vehicle.locked = vehicle.free_at < now
        return done
    if vehicle.hours is not None and now >= vehicle.shift_end:  # idle after its shift: the next one is planned
        start, vehicle.shift_end = shift_on_duty(vehicle.hours, now)
        vehicle.free_at = max(vehicle.free_at, start)
    if vehicle.free_at < now:
        vehicle.free_at = now
    return done
