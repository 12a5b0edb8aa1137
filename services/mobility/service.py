"""Mobility on the bus: ride requests in; answers, vehicle plans and completed rides out.

The handler only translates: wire times and positions become seconds of the local day and road-network
nodes, the dispatcher decides, the answer goes back as events. A timer moves the fleet to the present
(completed rides become RideCompleted, which settlement books as a fare and a payout) and re-optimises
the open plan without breaking a promise. A redelivered request gets its first answer again, never a
second seat.

The group's co-owned cars are vehicles too, planned only inside their members' free hours: a ride accepted on
one has its trip held in the group's book in the same call (``CoownedGroups.hold``), published on
``mobility.coowned``, so no member can take those minutes back. Logistics asks for its delivery rounds on the
cars on the same topic (answered by ``CoownedGroups.on_booking``), and a parcel a car delivered
(``logistics.assignments``: ParcelDelivered, the group as operator) is the group's credit like a ride's payout.

Vehicles with cargo room (``VehicleSpec.cargo``) lend their idle midday stretches to deliveries: each change of
what they offer is published as VehicleWindowsOffered, and logistics asks for a round on one of them with
FleetJobRequested (on ``mobility.requests``). The dispatcher holds the round in the vehicle's plan where it fits
between riders (``domain.lending``) and answers FleetJobAnswered; riders are then planned around it.

State survives a restart through the bus: each VehiclePlanned is the vehicle's whole state (position,
riders aboard, stops with their promised windows), and RideAnswered keeps the promises, so replaying
``mobility.assignments`` rebuilds the fleet exactly as it was published (``Service.replay``).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from itertools import pairwise

import numpy as np

from services.mobility.coowned import RIDE_HOLD_PREFIX, CoownedGroups, GroupSpec, default_groups
from services.mobility.domain.dispatcher import Answer, Dispatcher, Promise
from services.mobility.domain.fleet import (
    DAY,
    DROPOFF,
    PICKUP,
    RideRequest,
    Stop,
    Vehicle,
    shift_on_duty,
    simulate,
)
from services.mobility.domain.lending import idle_windows
from services.mobility.domain.reopt import reoptimise
from services.mobility.settings import COOWNED_KIND, TOKYO, MobilitySettings
from shared.contracts import charging as ev
from shared.contracts import logistics as parcels
from shared.contracts.base import Envelope, utcnow
from shared.contracts.charging import ChargingBilled, ChargingSessionMetered
from shared.contracts.logistics import ParcelAssigned, ParcelDelivered, ParcelReturned, ParcelUndeliverable
from shared.contracts.mobility import (
    ASSIGNMENTS,
    COOWNED,
    REQUESTS,
    CoownedBookingAnswered,
    CoownedBookingCancelled,
    CoownedBookingRequested,
    CoownedPeriodClosed,
    CoownedUsageRecorded,
    FleetJobAnswered,
    FleetJobCancelled,
    FleetJobRequested,
    OfferedWindow,
    PlannedStop,
    RideAnswered,
    RideCompleted,
    RideRequested,
    VehiclePlanned,
    VehicleWindowsOffered,
)
from shared.roads import RoadNetwork
from shared.runtime import Outgoing, Service, Timer, ignore

log = logging.getLogger(__name__)


def hold_id(request_id: str) -> str:
    """The id of the fleet's booking that holds a co-owned car for a ride."""
    return f"{RIDE_HOLD_PREFIX}{request_id}"


class MobilityService:
    """Fleet state and handlers; :func:`build_service` wraps it into a transport-free Service."""

    def __init__(self, network: RoadNetwork, settings: MobilitySettings | None = None,
                 clock: Callable[[], datetime] | None = None, coowned: CoownedGroups | None = None) -> None:
        self.settings = s = settings or MobilitySettings()
        self.coowned = coowned  # the groups' books; without them a co-owned car is never planned
        self.net = network
        self.clock = clock or utcnow
        start = self.clock().astimezone(TOKYO)
        self.day0 = start.replace(hour=0, minute=0, second=0, microsecond=0)
        places = list(range(network.n_nodes))
        travel = np.stack([network.seconds(places, h) for h in range(24)])
        self.operators = {v.id: v.operator for v in s.fleet}
        fleet = []
        for v in s.fleet:
            place = self._node_tagged(*v.start_tag)
            if v.kind == COOWNED_KIND:  # out whenever its members leave it free: its windows, not a shift
                on, off = shift_on_duty((0, DAY), self._secs(start))
                fleet.append(Vehicle(v.id, place, self._secs(start), v.capacity, off, v.wheelchair, v.kind,
                                     hours=(0, DAY), home=place, turnaround=self._turnaround(v.id)))
                continue
            on, off = shift_on_duty(v.shift, self._secs(start))
            fleet.append(Vehicle(v.id, place, max(on, self._secs(start)), v.capacity, off,
                                 v.wheelchair, v.kind, hours=v.shift))
        self.dispatcher = Dispatcher(fleet, travel, network.metres(places), s.limits, budget_s=s.answer_budget_s)
        self.revision = dict.fromkeys(self.operators, 0)
        self.answers: dict[str, RideAnswered] = {}
        self.riders: dict[str, str] = {}
        self.fares: dict[str, int] = {}
        self.completed: set[str] = set()
        self._billed = 0   # how much of dispatcher.completed has been turned into RideCompleted
        self.cargo = {v.id: v.cargo for v in s.fleet if v.cargo is not None and v.kind != COOWNED_KIND}
        self.jobs: dict[str, FleetJobAnswered] = {}
        self.offered: dict[str, tuple[tuple[int, int, int, int], ...]] = {}   # what each vehicle last offered
        # The Kafka adapter runs handlers and the timer in worker threads: one decision at a time.
        self.lock = threading.Lock()

    # ------------------------------------------------------------------ conversions
    def _node_tagged(self, key: str, value: str) -> int:
        found = self.net.nodes_with(key, value)
        if not found:
            raise ValueError(f"no road-network node tagged {key}={value}")
        return found[0]

    def _secs(self, moment: datetime) -> int:
        return int((moment - self.day0).total_seconds())

    def _time(self, secs: int) -> datetime:
        return self.day0 + timedelta(seconds=int(secs))

    def now(self) -> int:
        return self._secs(self.clock())

    # ------------------------------------------------------------------ co-owned cars
    def _turnaround(self, car: str) -> int:
        gid = self.coowned.car_group.get(car) if self.coowned else None
        return self.coowned.groups[gid].turnaround_min * 60 if self.coowned and gid else 0

    def _coowned_cars(self) -> list[Vehicle]:
        return [v for v in self.dispatcher.fleet if v.home is not None]

    def _refresh_windows(self, now: int) -> None:
        """Each co-owned car's windows from its members' book as it is now (a member's new booking shrinks
        them at once), over the next day."""
        for v in self._coowned_cars():
            found = self.coowned.windows(v.id, self._time(now), self._time(now + DAY)) if self.coowned else []
            v.windows = tuple((self._secs(lo), self._secs(hi)) for lo, hi in found)

    def _hold(self, request_id: str, vehicle: Vehicle) -> CoownedBookingAnswered | str:
        """Book the trip of ``request_id`` on co-owned ``vehicle`` (carport to pick-up, drop-off and back) for
        the fleet in its group's book."""
        if self.coowned is None:
            return "no co-owning groups"
        sched = simulate(vehicle, vehicle.stops, self.dispatcher.travel, self.dispatcher.max_ride)
        at = {s.kind: (t, s.place) for s, t in zip(vehicle.stops, sched.times, strict=False)
              if s.request == request_id}
        if PICKUP not in at or DROPOFF not in at:
            return f"{request_id} is not planned on {vehicle.id}"
        trip = next(((lo, hi) for lo, hi in sched.trips if lo <= at[PICKUP][0] <= hi), None)
        if not sched.feasible or trip is None:
            return f"{vehicle.id} has no trip for {request_id} ({sched.reason})"
        metres = 0
        if self.dispatcher.distance_m is not None and vehicle.home is not None:
            legs = (vehicle.home, at[PICKUP][1], at[DROPOFF][1], vehicle.home)
            metres = int(sum(self.dispatcher.distance_m[a, b] for a, b in pairwise(legs)))
        return self.coowned.hold(vehicle.id, hold_id(request_id), self._time(trip[0]), self._time(trip[1]), metres)

    def _decide_held(self, req: RideRequest, now: int) -> tuple[Answer, list[Outgoing]]:
        """Decide a ride; on a co-owned car it stands only once its trip is held in the car's book. If the book
        refuses (it knew of a booking the car's windows did not yet show), the acceptance is withdrawn and the
        ride decided again without that car."""
        self._refresh_windows(now)
        answer = self.dispatcher.decide(req, now)
        vehicles = {v.id: v for v in self.dispatcher.fleet}
        refused: set[str] = set()
        try:
            while answer.accepted and answer.vehicle is not None and vehicles[answer.vehicle].home is not None:
                car = vehicles[answer.vehicle]
                hold = self._hold(req.id, car) if car.id not in refused else f"{car.id} was refused already"
                if not isinstance(hold, str):
                    return answer, [Outgoing(COOWNED, hold)]
                log.warning("%s not planned on %s: %s", req.id, car.id, hold)
                self.dispatcher.withdraw(req.id)
                if car.id in refused:  # never loop: the ride is declined rather than planned without its hold
                    return Answer(req.id, False, reason="no vehicle can pick you up within your time window"), []
                refused.add(car.id)
                car.windows = ()  # for this decision only
                answer = self.dispatcher.decide(req, now)
            return answer, []
        finally:
            self._refresh_windows(now)

    def _held_again(self, answer: RideAnswered) -> list[Outgoing]:
        """A redelivered ride on a co-owned car: its hold again (booked now if it never reached the topic)."""
        car = next((v for v in self._coowned_cars() if v.id == answer.vehicle), None)
        if not answer.accepted or car is None or self.coowned is None:
            return []
        hold = self.coowned.answers.get(hold_id(answer.request_id))
        if hold is None:
            self._refresh_windows(self.now())
            booked = self._hold(answer.request_id, car)
            if isinstance(booked, str):
                log.error("ride %s on %s has no hold: %s", answer.request_id, car.id, booked)
                return []
            hold = booked
        return [Outgoing(COOWNED, hold)]

    # ------------------------------------------------------------------ lending to deliveries
    def _offer(self, vehicle: Vehicle) -> list[Outgoing]:
        """The vehicle's idle stretches as an offer, published when they changed (a start is compared to the
        quarter hour: an idle vehicle's stretch starts now, and that alone is no news)."""
        cargo = self.cargo.get(vehicle.id)
        if cargo is None:
            return []
        d, s = self.dispatcher, self.settings
        windows = idle_windows(vehicle, d.travel, d.max_ride, s.lend_hours, s.lend_min_s)
        seen = tuple((w.start // 900, w.end, w.start_place, w.end_place) for w in windows)
        if self.offered.get(vehicle.id) == seen:
            return []
        self.offered[vehicle.id] = seen
        net = self.net
        return [Outgoing(ASSIGNMENTS, VehicleWindowsOffered(
            vehicle=vehicle.id, operator=self.operators[vehicle.id], capacity_kg=cargo[0] / 1000,
            max_parcels=cargo[1], windows=tuple(OfferedWindow(
                start=self._time(w.start), end=self._time(w.end), from_lat=float(net.lat[w.start_place]),
                from_lon=float(net.lon[w.start_place]), to_lat=float(net.lat[w.end_place]),
                to_lon=float(net.lon[w.end_place])) for w in windows)))]

    def _offers(self) -> list[Outgoing]:
        """Every lending vehicle's offer that changed (also on its own timer, so a new logistics worker hears
        soon after start; the plans are not advanced here: that is the re-optimising tick's, which books
        the rides it completes)."""
        return [o for v in self.dispatcher.fleet for o in self._offer(v)]

    def on_job(self, envelope: Envelope, p: FleetJobRequested) -> Iterable[Outgoing]:
        """A delivery round asked for on a ride vehicle: held in its plan, or refused with the reason (the first
        answer again on redelivery)."""
        if p.job_id in self.jobs:
            return [Outgoing(ASSIGNMENTS, self.jobs[p.job_id])]
        if p.vehicle not in self.cargo:
            reason = f"{p.vehicle} carries no parcels (vehicles that do: {', '.join(sorted(self.cargo)) or 'none'})"
        elif p.weight_kg * 1000 > self.cargo[p.vehicle][0] or p.parcels > self.cargo[p.vehicle][1]:
            kg, most = self.cargo[p.vehicle]
            reason = f"{p.vehicle} carries at most {kg / 1000:g} kg and {most} parcels a round"
        else:
            depot = self.net.nearest(p.depot_lat, p.depot_lon)
            end = math.ceil((p.end - self.day0).total_seconds())   # held to the end asked for, not a second less
            reason = self.dispatcher.reserve(p.job_id, p.vehicle, depot, self._secs(p.start), end,
                                             max(self.now(), 0)) or ""
        answer = FleetJobAnswered(job_id=p.job_id, vehicle=p.vehicle, accepted=not reason, start=p.start, end=p.end,
                                  reason=reason)
        self.jobs[p.job_id] = answer
        if reason:
            log.info("delivery round %s refused: %s", p.job_id, reason)
            return [Outgoing(ASSIGNMENTS, answer)]
        vehicle = next(v for v in self.dispatcher.fleet if v.id == p.vehicle)
        return [Outgoing(ASSIGNMENTS, answer), self._plan_of(p.vehicle, "insertion"), *self._offer(vehicle)]

    def on_job_cancelled(self, envelope: Envelope, p: FleetJobCancelled) -> Iterable[Outgoing]:
        """A held round given back before it started: out of the vehicle's plan, its hours offered again. One that
        is under way (or unknown, or on another vehicle) stays as it is."""
        vehicle = next((v for v in self.dispatcher.fleet if v.id == p.vehicle), None)
        if vehicle is None or self.dispatcher.jobs.get(p.job_id) != p.vehicle:
            log.warning("cancellation of round %s on %s: no such round", p.job_id, p.vehicle)
            return []
        now = max(self.now(), 0)
        self.dispatcher.advance(now)
        d = self.dispatcher
        sched = simulate(vehicle, vehicle.stops, d.travel, d.max_ride)
        starts = [t for stop, t in zip(vehicle.stops, sched.times, strict=False)
                  if stop.request == p.job_id and stop.kind == PICKUP]
        if not starts or starts[0] <= now:   # its pick-up is the whole round: begun, or already done
            log.warning("cancellation of round %s refused: under way or done", p.job_id)
            return []
        self.dispatcher.withdraw(p.job_id)
        return [self._plan_of(vehicle.id, "insertion"), *self._offer(vehicle)]

    def on_job_answer(self, envelope: Envelope, payload: FleetJobAnswered) -> Iterable[Outgoing]:
        """Our own answer read back on replay: a redelivered request gets it again."""
        self.jobs.setdefault(payload.job_id, payload)
        return []

    # ------------------------------------------------------------------ handlers
    def on_request(self, envelope: Envelope, payload: RideRequested) -> Iterable[Outgoing]:
        if payload.request_id in self.answers:
            first = self.answers[payload.request_id]
            return [Outgoing(ASSIGNMENTS, first), *self._held_again(first)]
        p = payload
        origin, dest = self.net.nearest(p.origin_lat, p.origin_lon), self.net.nearest(p.destination_lat,
                                                                                      p.destination_lon)
        req = RideRequest(p.request_id, origin, dest, self._secs(p.earliest_pickup), self._secs(p.latest_arrival),
                          p.party, p.wheelchair)
        holds: list[Outgoing] = []
        if origin == dest:
            answer = Answer(p.request_id, False, reason="origin and destination are the same place")
        else:
            answer, holds = self._decide_held(req, max(self.now(), 0))
        out = [Outgoing(ASSIGNMENTS, self._answered(p, answer, origin, dest))]
        if answer.accepted:
            self.riders[p.request_id] = p.rider
            self.fares[p.request_id] = int(answer.fare_yen or 0)
            out.append(self._plan_of(answer.vehicle or "", "insertion"))
            out += self._offer(next(v for v in self.dispatcher.fleet if v.id == answer.vehicle))
        return out + holds

    # Our own published state, read back on replay after a restart (and ignored when already known).
    def on_answer(self, envelope: Envelope, payload: RideAnswered) -> Iterable[Outgoing]:
        if payload.request_id not in self.answers:
            self.answers[payload.request_id] = payload
            if payload.accepted:
                self.riders[payload.request_id] = payload.rider
                self.fares[payload.request_id] = int(payload.fare_yen or 0)
        return []

    def on_plan(self, envelope: Envelope, payload: VehiclePlanned) -> Iterable[Outgoing]:
        if payload.revision > self.revision.get(payload.vehicle, 0):
            self._restore(payload)
        return []

    def on_completed(self, envelope: Envelope, payload: RideCompleted) -> Iterable[Outgoing]:
        self.completed.add(payload.request_id)
        return []

    def tick(self) -> Iterable[Outgoing]:
        """Move the fleet to now, book finished rides, re-optimise; publish what changed."""
        now = self.now()
        self._refresh_windows(now)
        before = {v.id: list(v.stops) for v in self.dispatcher.fleet}
        self.dispatcher.advance(now)
        out = self._completions()
        outcome = reoptimise(self.dispatcher, now, self.settings.reopt_search_s)
        if outcome.adopted:
            log.info("re-optimised %d requests: %d -> %d s of driving", outcome.requests, outcome.cost_before,
                     outcome.cost_after)
        for v in self.dispatcher.fleet:
            if v.stops != before[v.id]:
                out.append(self._plan_of(v.id, "reoptimisation" if outcome.adopted else "insertion"))
        return out + self._offers()

    # ------------------------------------------------------------------ helpers
    def _completions(self) -> list[Outgoing]:
        """RideCompleted for every drop-off served since the last call, whichever call moved the fleet (a
        decision advances it too, so the tick's own advance alone would miss rides finished before it)."""
        done = self.dispatcher.completed[self._billed:]
        self._billed = len(self.dispatcher.completed)
        out = []
        for vehicle, stop, start in done:
            if stop.kind != DROPOFF or stop.request in self.completed or stop.request in self.dispatcher.jobs:
                continue
            self.completed.add(stop.request)
            fare = self.fares.get(stop.request, 0)
            out.append(Outgoing(ASSIGNMENTS, RideCompleted(
                request_id=stop.request, rider=self.riders.get(stop.request, "unknown"), vehicle=vehicle,
                operator=self.operators.get(vehicle, "unknown"), fare_yen=fare,
                payout_yen=self.dispatcher.fares.payout_yen(fare), dropped_off_at=self._time(start))))
        return out

    def _answered(self, p: RideRequested, a: Answer, origin: int, dest: int) -> RideAnswered:
        alternative = ""
        if not a.accepted:
            metres = int(self.dispatcher.distance_m[origin, dest])
            if a.alternative_pickup is not None:
                alternative = f"a later pick-up at {self._time(a.alternative_pickup).astimezone(TOKYO):%H:%M}"
            elif metres <= self.settings.walk_max_m:
                alternative = f"walk: {metres} m, about {round(metres / (self.settings.walk_kmh / 3.6) / 60)} min"
            else:
                alternative = self._nearest_carshare(origin)
        answer = RideAnswered(
            request_id=p.request_id, rider=p.rider, accepted=a.accepted, vehicle=a.vehicle,
            pickup_from=self._time(a.pickup_window[0]) if a.pickup_window else None,
            pickup_until=self._time(a.pickup_window[1]) if a.pickup_window else None,
            planned_dropoff=self._time(a.planned_dropoff) if a.planned_dropoff is not None else None,
            fare_yen=a.fare_yen, reason=a.reason, alternative=alternative,
            alternative_pickup=self._time(a.alternative_pickup) if a.alternative_pickup is not None else None)
        self.answers[p.request_id] = answer
        return answer

    def _nearest_carshare(self, origin: int) -> str:
        stations = self.net.nodes_with("amenity", "car_sharing")
        if not stations:
            return ""
        best = min(stations, key=lambda n: self.dispatcher.distance_m[origin, n])
        tags = self.net.tags[best]
        metres = int(self.dispatcher.distance_m[origin, best])
        return f"car share at {tags.get('name', '')} ({tags.get('ref', '')}), {metres} m"

    def _plan_of(self, vehicle_id: str, reason: str) -> Outgoing:
        v = next(x for x in self.dispatcher.fleet if x.id == vehicle_id)
        sched = simulate(v, v.stops, self.dispatcher.travel, self.dispatcher.max_ride)
        self.revision[v.id] += 1
        stops = tuple(PlannedStop(
            request_id=s.request, kind=s.kind, lat=float(self.net.lat[s.place]), lon=float(self.net.lon[s.place]),
            planned_at=self._time(t), window_from=self._time(s.earliest), window_until=self._time(s.latest),
            seats=abs(s.load), service_s=s.service, max_ride_s=self.dispatcher.max_ride.get(s.request, 0),
            purpose="delivery" if s.request in self.dispatcher.jobs else "ride")
            for s, t in zip(v.stops, sched.times, strict=False))
        return Outgoing(ASSIGNMENTS, VehiclePlanned(
            vehicle=v.id, stops=stops, revision=self.revision[v.id], reason=reason,  # type: ignore[arg-type]
            at_lat=float(self.net.lat[v.place]), at_lon=float(self.net.lon[v.place]), free_at=self._time(v.free_at),
            onboard=tuple(f"{r}:{seats}:{v.picked_at.get(r, v.free_at)}" for r, seats in v.onboard.items()),
            locked=v.locked))

    def _restore(self, plan: VehiclePlanned) -> None:
        v = next((x for x in self.dispatcher.fleet if x.id == plan.vehicle), None)
        if v is None:
            return
        d = self.dispatcher
        v.place, v.free_at, v.locked = self.net.nearest(plan.at_lat, plan.at_lon), self._secs(plan.free_at), plan.locked
        v.onboard, v.picked_at = {}, {}
        for item in plan.onboard:
            rid, seats, picked = item.rsplit(":", 2)
            v.onboard[rid], v.picked_at[rid] = int(seats), int(picked)
        v.stops = []
        for s in plan.stops:
            load = s.seats if s.kind == "pickup" else -s.seats
            v.stops.append(Stop(s.request_id, s.kind, self.net.nearest(s.lat, s.lon), self._secs(s.window_from),
                                self._secs(s.window_until), load, s.service_s))
            d.max_ride[s.request_id] = s.max_ride_s
            if s.purpose == "delivery":
                d.jobs[s.request_id] = plan.vehicle
        for s in plan.stops:
            answer = self.answers.get(s.request_id)
            if s.kind == DROPOFF and answer is not None and answer.pickup_from and answer.pickup_until:
                window = (self._secs(answer.pickup_from), self._secs(answer.pickup_until))
                d.promises[s.request_id] = Promise(window, self._secs(s.window_until), s.max_ride_s, plan.vehicle)
                d.requests.setdefault(s.request_id, RideRequest(s.request_id, 0, 0, window[0],
                                                                self._secs(s.window_until)))
        self.revision[v.id] = plan.revision


def build_service(network: RoadNetwork, settings: MobilitySettings | None = None,
                  clock: Callable[[], datetime] | None = None, groups: Iterable[GroupSpec] | None = None) -> Service:
    """Ride dispatch and the co-owned groups' books (``groups``: the Ebina group by default)."""
    coowned = CoownedGroups(default_groups() if groups is None else groups)
    svc = MobilityService(network, settings, clock, coowned)

    def on_completed(envelope: Envelope, payload: RideCompleted) -> list[Outgoing]:
        return [*svc.on_completed(envelope, payload), *coowned.on_ride(envelope, payload)]

    def locked(fn):
        def run(*args):
            with svc.lock:
                return list(fn(*args))
        return run

    return Service(name="mobility", handlers={REQUESTS: {RideRequested: locked(svc.on_request),
                                                         FleetJobRequested: locked(svc.on_job),
                                                         FleetJobCancelled: locked(svc.on_job_cancelled)},
                                              ASSIGNMENTS: {RideAnswered: locked(svc.on_answer),
                                                            VehiclePlanned: locked(svc.on_plan),
                                                            RideCompleted: locked(on_completed),
                                                            FleetJobAnswered: locked(svc.on_job_answer),
                                                            # re-offered from the plans after a restart
                                                            VehicleWindowsOffered: ignore},
                                              COOWNED: {CoownedBookingRequested: locked(coowned.on_booking),
                                                        CoownedBookingCancelled: locked(coowned.on_cancel),
                                                        CoownedBookingAnswered: locked(coowned.on_answer),
                                                        CoownedUsageRecorded: locked(coowned.on_usage),
                                                        CoownedPeriodClosed: locked(coowned.on_close)},
                                              ev.SESSIONS: {ChargingSessionMetered: locked(coowned.on_session)},
                                              # the group cars' delivery payouts (logistics' other events: not ours)
                                              parcels.ASSIGNMENTS: {ParcelDelivered: locked(coowned.on_delivery),
                                                                    ParcelAssigned: ignore, ParcelReturned: ignore,
                                                                    ParcelUndeliverable: ignore},
                                              ev.BILLS: {ChargingBilled: locked(coowned.on_bill)}},
                   timers=[Timer(svc.settings.reopt_interval_s, locked(svc.tick)),
                           Timer(svc.settings.offer_interval_s, locked(svc._offers))],
                   # a group's months are rebuilt from its own topic: bookings are taken months ahead
                   replay={ASSIGNMENTS: timedelta(days=1), COOWNED: timedelta(days=400)})
