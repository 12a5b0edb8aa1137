"""Re-plan a depot's open parcels as they arrive: one VRPTW over its couriers, parcels that no courier can
deliver in their window left out with the reason, everyone else assigned to a round.

Couriers are planned as leaving the depot at the planning time (rounds start from the depot: a wave
that has left is not re-planned); times are seconds on the caller's clock, weights in grams. Each
courier carries at most its own capacity and is back at the depot by the end of its own shift.

A co-owned car's free window (:class:`CarWindow`) is one more vehicle for at most one round: it leaves its
carport, loads at the depot, drives the stops and goes home, all inside the window. In the model it may leave
the depot no earlier than the window's start plus the drive from the carport, must be back at the depot by
the window's end less the drive home (the direct drive home from the last stop is never longer), and carries
at most its kilograms and its number of parcels. Using it costs the two carport legs plus ``extra_cost``, and
each parcel it takes ``stop_cost`` more, so the search takes a car only for parcels no courier can serve (a
left-out parcel costs far more) or where it saves more than that much courier driving, and a parcel rides
along on a car that is out anyway only when that saves ``stop_cost`` of courier driving: the depot's couriers
are there for its parcels, the car's hours are the group's (each minute held is one its members cannot book).
A ride vehicle's idle stretch between rides is a window too (``CarWindow.home``: it starts where the vehicle
is idle and ends where its next rider waits; the round ends back at the depot, where the dispatcher holds it).
Every car round is checked against its window after the search (a round outside it is planned again without
that window), and its departure is put off as far as the round's waits allow, so the car is held no longer
than it drives.
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
class CarWindow:
    """A co-owned car free from ``start`` to ``end`` (seconds): one round at most, carport to carport."""

    car: str
    carport: int        # node in the travel matrix
    capacity_g: int
    max_parcels: int
    start: int
    end: int
    extra_cost: int = 1800   # seconds of courier driving it must save before it is preferred
    stop_cost: int = 300     # and per parcel it takes: a parcel rides along only when that saves this much
    # A ride vehicle lent between rides: ``carport`` is where it is idle at ``start``, ``home`` where its next
    # rider waits at ``end``; its round ends back at the depot (where the dispatcher holds it), then it drives
    # on to ``home``. None: a co-owned car, back to its carport straight from the last stop.
    home: int | None = None


@dataclass(frozen=True)
class Round:
    courier: str
    parcels: tuple[str, ...]
    times: tuple[int, ...]   # planned hand-over, seconds of the day
    # A co-owned car's round: when it leaves its carport and is back there, and the window it was planned in.
    leave: int | None = None
    back: int | None = None
    window: CarWindow | None = None
    depot_span: tuple[int, int] | None = None   # a window's round: leaves the depot, back at the depot


@dataclass(frozen=True)
class Plan:
    rounds: tuple[Round, ...]
    undeliverable: dict[str, str]   # parcel -> reason


SERVICE_S = 120  # hand-over at the door


def _vehicles(depot: int, couriers: list[Courier], cars: list[CarWindow], travel: np.ndarray, now: int
              ) -> tuple[list[Courier | CarWindow], list[int], list[int], list[int], list[int], list[int],
                         list[int]]:
    """Each vehicle (couriers first, then the car windows with room for a round) with its earliest departure
    from the depot, latest return there, capacity, most parcels (0: no limit), cost of being used and cost
    per parcel taken."""
    vehicles: list[Courier | CarWindow] = []
    ready, back, cap, stops, fixed, per_stop = [], [], [], [], [], []
    for c in couriers:
        vehicles.append(c)
        ready.append(0)
        back.append(max(0, c.shift_end - now))   # a shift already over: no round
        cap.append(c.capacity_g)
        stops.append(0)
        fixed.append(0)
        per_stop.append(0)
    for w in cars:
        to_depot, home = int(travel[w.carport, depot]), int(travel[depot, w.carport if w.home is None else w.home])
        leave, by = max(now, w.start + to_depot) - now, w.end - home - now
        if by <= leave or w.max_parcels <= 0:
            continue
        vehicles.append(w)
        ready.append(leave)
        back.append(by)
        cap.append(w.capacity_g)
        stops.append(w.max_parcels)
        fixed.append(to_depot + home + w.extra_cost)
        per_stop.append(w.stop_cost)
    return vehicles, ready, back, cap, stops, fixed, per_stop


def plan_depot(depot: int, parcels: list[Parcel], couriers: list[Courier], travel: np.ndarray, now: int,
               seconds: float = 0.5, cars: list[CarWindow] | None = None) -> Plan:
    """Best rounds for ``parcels`` from ``depot`` at ``now`` over ``couriers`` and the co-owned cars' free
    ``cars`` windows (see the module docstring)."""
    cars = list(cars or [])
    vehicles, v_ready, v_back, v_cap, v_stops, v_fixed, v_per_stop = _vehicles(depot, couriers, cars, travel, now)
    if not parcels or not vehicles:
        return Plan((), {p.id: "no courier works at this depot" for p in parcels})
    heavy = {p.id: "heavier than any courier can carry" for p in parcels if p.weight_g > max(v_cap)}
    late = {p.id: "its delivery window has already closed" for p in parcels if p.due < now + travel[depot, p.place]}
    last_shift = now + max(v_back)
    after = {p.id: "its delivery window opens after every courier's shift ends" for p in parcels
             if p.id not in late and p.ready + travel[depot, p.place] > last_shift}
    late.update(after)
    usable = [p for p in parcels if p.id not in heavy and p.id not in late]
    if not usable:
        return Plan((), {**heavy, **late})
    nodes = [depot, *[p.place for p in usable]]
    sub = travel[np.ix_(nodes, nodes)].astype(np.int64)
    horizon = max(v_back)
    with_cars = len(vehicles) > len(couriers)
    problem = VrptwProblem(
        travel=sub, demand=np.array([0, *[p.weight_g for p in usable]], dtype=np.int64),
        ready=np.array([0, *[max(0, p.ready - now) for p in usable]], dtype=np.int64),
        due=np.array([horizon, *[max(0, min(p.due - now, horizon)) for p in usable]], dtype=np.int64),
        service=np.array([0, *[SERVICE_S] * len(usable)], dtype=np.int64),
        capacity=max(v_cap), vehicles=len(vehicles), capacities=tuple(v_cap), vehicle_due=tuple(v_back),
        vehicle_ready=tuple(v_ready) if with_cars else (),
        vehicle_stops=tuple(k or len(usable) for k in v_stops) if with_cars else (),
        vehicle_fixed_cost=tuple(v_fixed) if with_cars else (),
        vehicle_stop_cost=tuple(v_per_stop) if with_cars else ())
    solution = solve(problem, seconds, allow_drop=True)
    rounds = []
    for v, route in zip(solution.vehicles, solution.routes, strict=True):
        who = vehicles[v]
        times = _schedule(problem, sub, route, v_ready[v])
        if isinstance(who, Courier):
            rounds.append(Round(who.id, tuple(usable[n - 1].id for n in route), tuple(now + t for t in times)))
            continue
        depart, times = _put_off(problem, sub, route, v_ready[v], times)
        places = [usable[n - 1].place for n in route]
        leave = now + depart - int(travel[who.carport, depot])
        returned = now + times[-1] + SERVICE_S + int(travel[places[-1], depot])
        if who.home is None:
            back = now + times[-1] + SERVICE_S + int(travel[places[-1], who.carport])
        else:
            back = returned + int(travel[depot, who.home])
        if not who.start <= leave < back <= who.end:   # never expected: the model keeps it inside
            return plan_depot(depot, parcels, couriers, travel, now, seconds, [w for w in cars if w != who])
        rounds.append(Round(who.car, tuple(usable[n - 1].id for n in route), tuple(now + t for t in times),
                            leave=leave, back=back, window=who, depot_span=(now + depart, returned)))
    failed = {usable[n - 1].id: "no courier can reach it inside its window" for n in solution.unserved}
    return Plan(tuple(rounds), {**heavy, **late, **failed})


def _schedule(problem: VrptwProblem, sub: np.ndarray, route: tuple[int, ...], leave: int) -> list[int]:
    """Earliest start of service at each stop, leaving the depot at ``leave`` (waiting where early)."""
    t, prev, times = leave, 0, []
    for node in route:
        t = max(t + int(sub[prev, node]), int(problem.ready[node]))
        times.append(t)
        t += SERVICE_S
        prev = node
    return times


def _put_off(problem: VrptwProblem, sub: np.ndarray, route: tuple[int, ...], depart: int, times: list[int]
             ) -> tuple[int, list[int]]:
    """The same round leaving the depot as late as its waits allow without ending later or missing a window:
    the departure and the new times."""
    waited, arrive, prev, room = 0, depart, 0, None
    for node, t in zip(route, times, strict=True):
        arrive += int(sub[prev, node])
        waited += t - arrive
        slack = waited + int(problem.due[node]) - t
        room = slack if room is None else min(room, slack)
        arrive = t + SERVICE_S
        prev = node
    delay = max(0, min(waited, room or 0))
    return depart + delay, _schedule(problem, sub, route, depart + delay) if delay else times
