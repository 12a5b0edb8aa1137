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
    # A co-owned car lent between its members' bookings: it leaves ``home`` (its carport) for each trip and is
    # back there, plus ``turnaround``, before it may be taken again; every trip lies inside one of ``windows``.
    home: int | None = None
    windows: tuple[tuple[int, int], ...] = ()
    turnaround: int = 0

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
    trips: tuple[tuple[int, int], ...] = ()  # a co-owned car's time away from home per trip, whole minutes


def minute_floor(t: int) -> int:
    return t // 60 * 60


def minute_ceil(t: int) -> int:
    return -(-t // 60) * 60


def back_home(vehicle: Vehicle, place: int, t: int, travel: np.ndarray) -> tuple[int, int]:
    """When a co-owned car that leaves ``place`` at ``t`` may be taken again (at home, in whole minutes, after
    the turnaround, as its members' book counts it), and the seconds driven back."""
    home = vehicle.home if vehicle.home is not None else place
    leg = int(at_hour(travel, t)[place, home])
    return minute_ceil(t + leg) + vehicle.turnaround, leg


def inside_windows(vehicle: Vehicle, start: int, end: int) -> bool:
    return any(lo <= start and end <= hi for lo, hi in vehicle.windows)


def simulate(vehicle: Vehicle, stops: list[Stop], travel: np.ndarray, max_ride: dict[str, int]) -> Schedule:
    """The earliest-start schedule of ``vehicle`` driving ``stops`` and whether it keeps every rule.

    A co-owned car (``home`` set) instead waits at home and leaves just in time for a trip's first pick-up,
    drives back home once it is empty, and is feasible only if each trip, from leaving home to being back
    (whole minutes), lies inside one of its windows: so it never runs into a member's booking."""
    if vehicle.home is not None:
        return _simulate_trips(vehicle, stops, travel, max_ride)
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


def _simulate_trips(vehicle: Vehicle, stops: list[Stop], travel: np.ndarray, max_ride: dict[str, int]) -> Schedule:
    home = vehicle.home
    assert home is not None
    t, place, load, driven = vehicle.free_at, vehicle.place, vehicle.load, 0
    picked = dict(vehicle.picked_at)
    service_at_pickup: dict[str, int] = {}
    times: list[int] = []
    trips: list[tuple[int, int]] = []
    away: int | None = minute_floor(t) if (place != home or load) else None  # a trip under way left home by ``t``
    for stop in stops:
        leg = int(at_hour(travel, t)[place, stop.place])
        if away is None:  # at home: leave as late as still reaches the stop's earliest, never before ``t``
            depart = max(t, stop.earliest - leg)
            late_leg = int(at_hour(travel, depart)[place, stop.place])
            if max(depart + late_leg, stop.earliest) <= stop.latest:
                t, leg = depart, late_leg
            away = minute_floor(t)
        driven += leg
        start = max(t + leg, stop.earliest)
        if start > stop.latest:
            return Schedule(False, tuple(times), driven, f"{stop.kind} of {stop.request} late", tuple(trips))
        load += stop.load
        if load > vehicle.capacity:
            return Schedule(False, tuple(times), driven, "over capacity", tuple(trips))
        if stop.kind == PICKUP:
            picked[stop.request] = start
            service_at_pickup[stop.request] = stop.service
        elif stop.request in picked:
            ride = start - picked[stop.request] - service_at_pickup.get(stop.request, 0)
            if ride > max_ride[stop.request]:
                return Schedule(False, tuple(times), driven, f"ride of {stop.request} too long", tuple(trips))
        times.append(start)
        t, place = start + stop.service, stop.place
        if load == 0:  # empty: back to the carport before anyone may take the car again
            free, back = back_home(vehicle, place, t, travel)
            driven += back
            trip = (away, free - vehicle.turnaround)
            if not inside_windows(vehicle, *trip):
                return Schedule(False, tuple(times), driven, "outside the hours its members left free",
                                tuple(trips))
            trips.append(trip)
            t, place, away = free, home, None
    if away is not None and stops:
        return Schedule(False, tuple(times), driven, "a trip that does not end at home", tuple(trips))
    return Schedule(True, tuple(times), driven, trips=tuple(trips))


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
            if vehicle.home is not None and not vehicle.onboard:  # it drives home: free once back and checked
                vehicle.free_at, _ = back_home(vehicle, vehicle.place, vehicle.free_at, travel)
                vehicle.place = vehicle.home
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
