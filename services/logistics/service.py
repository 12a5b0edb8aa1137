"""Logistics on the bus: parcels in, courier rounds out, re-planned as parcels arrive.

Each ParcelRequested joins its depot's open parcels and the depot is re-planned (VRPTW with OR-Tools);
every open parcel's latest assignment is published (ParcelAssigned), a parcel no courier can deliver in
its window gets ParcelUndeliverable with the reason, and a DeliveryFailed from a courier sends the parcel
back (ParcelReturned, with the courier's reason). A timer removes parcels whose hand-over time has
passed (delivered as planned) and publishes ParcelDelivered with the sender's fee and the operator's payout
(settlement books it once per parcel). A redelivered request changes nothing: the parcel is already open.
Shops' daily reports are watched for anomalies by :mod:`services.logistics.shop_watch`.

Co-owned cars (``settings.CoownedCar``) take rounds in the hours their members left free: their bookings are
read from ``mobility.coowned`` into a calendar (``domain.free_hours``), each free window of the rest of the day
is a vehicle of the depot's plan, and each round planned on a car is asked for as the fleet's booking
(``CoownedBookingRequested``, id ``delivery:<depot>:<car>:<leave>``). From then on the round is kept as it is
(its parcels are not re-planned, its hours are busy for every depot). If mobility's book refuses it (a member
booked first), those hours of the car are not offered again and the depot is re-planned: its parcels get new
assignments (the member's booking, answered on the same topic before the refusal, is in the calendar by then).
A parcel delivered by a car pays its payout to the car's group. A held round whose parcels all failed before it
left is given back (CoownedBookingCancelled; FleetJobCancelled for a ride vehicle's).

Ride vehicles with cargo room lend their idle midday stretches the same way: mobility publishes each one's
stretches (VehicleWindowsOffered on ``mobility.assignments``), each stretch is a window of every depot's plan
(starting where the vehicle is idle, ending where its next rider waits), and a round planned in one is asked
for with FleetJobRequested (id ``delivery:<depot>:<vehicle>:<leave>``): the dispatcher holds it in the vehicle's
plan or refuses it (riders took the stretch first), and a refusal is handled as a car's: those hours are not
offered again and the depot is re-planned. The payout of a parcel a ride vehicle delivered goes to its operator.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import numpy as np

from services.logistics.domain.fees import FeeRule, delivery_fee
from services.logistics.domain.free_hours import FLEET, FreeHours, ceil_minute, floor_minute, subtract
from services.logistics.domain.planner import CarWindow, Courier, Parcel, Round, plan_depot
from services.logistics.settings import CoownedCar, default_coowned_cars
from services.logistics.shop_watch import ShopWatch
from shared.contracts import mobility as rides
from shared.contracts.base import Envelope, utcnow
from shared.contracts.logistics import (
    ASSIGNMENTS,
    REQUESTS,
    SHOP_DAYS,
    DeliveryFailed,
    ParcelAssigned,
    ParcelDelivered,
    ParcelRequested,
    ParcelReturned,
    ParcelUndeliverable,
    ShopDayReported,
)
from shared.contracts.mobility import (
    COOWNED,
    CoownedBookingAnswered,
    CoownedBookingCancelled,
    CoownedBookingRequested,
    CoownedPeriodClosed,
    CoownedUsageRecorded,
    FleetJobAnswered,
    FleetJobCancelled,
    FleetJobRequested,
    VehicleWindowsOffered,
)
from shared.roads import RoadNetwork
from shared.runtime import Outgoing, Service, Timer, ignore

log = logging.getLogger(__name__)
TOKYO = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class LogisticsSettings:
    couriers: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=lambda: {
        "lalaport": (("courier-lalaport-1", 60_000), ("courier-lalaport-2", 60_000)),
        "vinawalk": (("courier-vinawalk-1", 60_000), ("ev-shuttle-3", 80_000)),
    })
    # Who runs each depot's couriers (paid the delivery fee's payout on the ledger).
    operators: dict[str, str] = field(default_factory=lambda: {"lalaport": "ebina-couriers",
                                                               "vinawalk": "ebina-couriers"})
    fees: FeeRule = field(default_factory=FeeRule)
    search_s: float = 0.5
    shift_end_hour: int = 21
    housekeeping_s: float = 30.0
    # The co-owned cars lent as couriers (empty: none), what one must save before it is taken instead of a
    # courier (seconds of driving, beside its carport legs) and per parcel, and the book's rules the calendar
    # follows.
    coowned: tuple[CoownedCar, ...] = field(default_factory=default_coowned_cars)
    coowned_extra_cost_s: int = 1800
    coowned_stop_cost_s: int = 300      # per parcel a car takes: it rides along only when that saves as much
    coowned_turnaround_min: int = 15
    coowned_min_window_min: int = 60
    # The ride fleet's idle stretches (offered by mobility): their drivers are on shift anyway, so a round on
    # one need save less courier driving than a member's car must; the depots they load at.
    fleet_extra_cost_s: int = 900
    fleet_stop_cost_s: int = 120
    fleet_depots: tuple[str, ...] = ("lalaport", "vinawalk")


MAX_REFUSALS = 3   # refusals of one car's rounds in a row before the car is not offered for a day
PARCEL_DAYS = 2    # how far back a restart looks for parcels still open (a parcel is delivered the day it is sent)


@dataclass(frozen=True)
class FleetOffer:
    """A ride vehicle's latest offer as the planner uses it: windows as (start, end, node where it is idle, node
    of its next rider)."""

    operator: str
    capacity_g: int
    max_parcels: int
    windows: tuple[tuple[datetime, datetime, int, int], ...]


@dataclass(frozen=True)
class HeldRound:
    """A round planned on a co-owned car (asked for as the fleet's booking) or on a ride vehicle between its
    rides (asked for as a fleet job); kept as it is from then on."""

    booking_id: str
    depot: str
    car: str
    parcels: tuple[str, ...]
    span: tuple[datetime, datetime]   # the hours asked for (not offered again if they are refused)
    on_ride_vehicle: bool = False
    asked: Outgoing | None = None     # the request for it, sent again with a redelivered parcel's assignment


class LogisticsService:
    def __init__(self, network: RoadNetwork, settings: LogisticsSettings | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.settings = settings or LogisticsSettings()
        self.net = network
        self.clock = clock or utcnow
        self.t0 = self.clock().replace(microsecond=0)   # whole seconds: every time we publish is too
        self.open: dict[str, tuple[ParcelRequested, Parcel]] = {}
        self.planned: dict[str, ParcelAssigned] = {}
        self.closed: set[str] = set()
        self.final: dict[str, ParcelUndeliverable | ParcelReturned] = {}   # a closed parcel's last word
        self.revision = 0
        self.cars = {c.id: c for c in self.settings.coowned}
        self.calendar = FreeHours({c.id: c.group for c in self.settings.coowned},
                                  timedelta(minutes=self.settings.coowned_turnaround_min),
                                  timedelta(minutes=self.settings.coowned_min_window_min))
        self.held: dict[str, HeldRound] = {}       # by booking id, until the book refuses it
        self.on_car: dict[str, str] = {}           # parcel -> the booking id of its car round
        self.refused: set[str] = set()             # our booking ids the book refused (handled once)
        self.refusals: dict[str, int] = {}         # car -> refusals of our rounds since its last accepted one
        self.couriers = {cid for crew in self.settings.couriers.values() for cid, _ in crew}
        self.offers: dict[str, FleetOffer] = {}                        # ride vehicle -> its latest offer
        self.fleet_blocked: dict[str, list[tuple[datetime, datetime]]] = {}   # ride vehicle -> refused hours
        self._metres: np.ndarray | None = None

    def _secs(self, moment: datetime) -> int:
        return int((moment - self.t0).total_seconds())

    def _at(self, secs: int) -> datetime:
        return self.t0 + timedelta(seconds=secs)

    def _secs_up(self, moment: datetime) -> int:
        return math.ceil((moment - self.t0).total_seconds())

    def _secs_down(self, moment: datetime) -> int:
        return math.floor((moment - self.t0).total_seconds())

    def _depot_node(self, depot: str) -> int | None:
        found = self.net.nodes_with("ref", depot)
        return found[0] if found else None

    def on_failed(self, envelope: Envelope, payload: DeliveryFailed) -> Iterable[Outgoing]:
        return self._failed(payload)

    def on_request(self, envelope: Envelope, payload: ParcelRequested) -> Iterable[Outgoing]:
        p = payload
        if p.parcel_id in self.open or p.parcel_id in self.closed:
            if p.parcel_id not in self.planned:
                last = self.final.get(p.parcel_id)   # undeliverable or returned: that answer again
                return [Outgoing(ASSIGNMENTS, last)] if last is not None else []
            return [Outgoing(ASSIGNMENTS, self.planned[p.parcel_id]), *self._asked_again(p.parcel_id)]
        if p.parcel_id in self.planned:   # assigned before a restart (read back from our own topic): open again
            return self._reopen(p)
        if self._depot_node(p.depot) is None or not (p.depot in self.settings.couriers or self._cars_of(p.depot)
                                                    or p.depot in self.settings.fleet_depots):
            self.closed.add(p.parcel_id)
            self.final[p.parcel_id] = no = ParcelUndeliverable(parcel_id=p.parcel_id, sender=p.sender,
                                                               reason=f"depot {p.depot!r} is not served")
            return [Outgoing(ASSIGNMENTS, no)]
        self.open[p.parcel_id] = (p, self._parcel(p))
        return self._replan(p.depot)

    def _parcel(self, p: ParcelRequested) -> Parcel:
        """The request as the planner sees it: its node, its window in our seconds, grams."""
        return Parcel(p.parcel_id, self.net.nearest(p.lat, p.lon), self._secs(p.deliver_from),
                      self._secs(p.deliver_until), round(p.weight_kg * 1000))

    # ------------------------------------------------------------------ after a restart
    def _reopen(self, p: ParcelRequested) -> list[Outgoing]:
        """A parcel we had assigned before a restart, its request replayed: open again as it was planned, not
        re-planned. One on a co-owned car or a ride vehicle stays on it (that round's hold was asked for and
        is kept by mobility), so the depot's next plan goes around it."""
        planned = self.planned[p.parcel_id]
        self.open[p.parcel_id] = (p, self._parcel(p))
        if planned.courier not in self.couriers:
            self.on_car[p.parcel_id] = f"restored:{planned.courier}"
        return [Outgoing(ASSIGNMENTS, planned)]

    def _asked_again(self, parcel_id: str) -> list[Outgoing]:
        """The hold request of the parcel's round, again: mobility answers a repeat with its first answer, and
        the first may never have been sent (planned during a replay, whose outputs are not published)."""
        held = self.held.get(self.on_car.get(parcel_id, ""))
        return [held.asked] if held is not None and held.asked is not None else []

    def on_assigned_back(self, envelope: Envelope, payload: ParcelAssigned) -> Iterable[Outgoing]:
        """Our own assignment read back (after a restart, the plan we had; live, the one we already keep)."""
        self.revision = max(self.revision, payload.plan_revision)
        old = self.planned.get(payload.parcel_id)
        if payload.parcel_id not in self.closed and (old is None or payload.plan_revision >= old.plan_revision):
            self.planned[payload.parcel_id] = payload
        return []

    def on_closed_back(self, envelope: Envelope, payload: ParcelDelivered | ParcelUndeliverable | ParcelReturned
                       ) -> Iterable[Outgoing]:
        """Our own last word on a parcel read back: it is never planned or billed again."""
        pid = payload.parcel_id
        self.closed.add(pid)
        if not isinstance(payload, ParcelDelivered):
            self.final[pid] = payload
        self.planned.pop(pid, None)
        self.open.pop(pid, None)
        self.on_car.pop(pid, None)
        return []

    # ------------------------------------------------------------------ co-owned cars
    def _cars_of(self, depot: str) -> list[CoownedCar]:
        return [c for c in self.settings.coowned if depot in c.depots]

    def _car_windows(self, depot: str, now_dt: datetime, until: datetime) -> list[CarWindow]:
        """Every stretch the ride vehicles offer, then every free window of the depot's co-owned cars, from now to
        ``until``, in whole seconds inside it."""
        out = self._fleet_windows(depot, now_dt, until)
        for car in self._cars_of(depot):
            found = self.net.nodes_with(*car.carport)
            if not found:
                log.error("co-owned car %s: no node tagged %s=%s", car.id, *car.carport)
                continue
            for lo, hi in self.calendar.windows(car.id, now_dt, until):
                out.append(CarWindow(car.id, found[0], car.capacity_g, car.max_parcels, self._secs_up(lo),
                                     self._secs_down(hi), self.settings.coowned_extra_cost_s,
                                     self.settings.coowned_stop_cost_s))
        return out

    def _fleet_windows(self, depot: str, now_dt: datetime, until: datetime) -> list[CarWindow]:
        """The ride vehicles' offered stretches, less our rounds on them not yet in an offer and the hours
        their dispatcher refused."""
        if depot not in self.settings.fleet_depots:
            return []
        out = []
        for vehicle, offer in self.offers.items():
            taken = [h.span for h in self.held.values() if h.car == vehicle] + self.fleet_blocked.get(vehicle, [])
            for lo, hi, idle_at, next_at in offer.windows:
                pieces = [(max(lo, now_dt), min(hi, until))]
                for a, b in taken:
                    pieces = subtract(pieces, a, b)
                out += [CarWindow(vehicle, idle_at, offer.capacity_g, offer.max_parcels, self._secs_up(a),
                                  self._secs_down(b), self.settings.fleet_extra_cost_s,
                                  self.settings.fleet_stop_cost_s, home=next_at) for a, b in pieces if b > a]
        return out

    def on_offer(self, envelope: Envelope, payload: VehicleWindowsOffered) -> Iterable[Outgoing]:
        """A ride vehicle's idle stretches as its plan now stands (the latest replaces the one before), with their
        places on our network found once here rather than at every re-plan."""
        self.offers[payload.vehicle] = FleetOffer(
            payload.operator, round(payload.capacity_kg * 1000), payload.max_parcels,
            tuple((w.start, w.end, self.net.nearest(w.from_lat, w.from_lon), self.net.nearest(w.to_lat, w.to_lon))
                  for w in payload.windows))
        return []

    def _round_metres(self, depot: int, rnd: Round) -> int:
        if self._metres is None:
            self._metres = self.net.metres(list(range(self.net.n_nodes)))
        assert rnd.window is not None
        legs = [rnd.window.carport, depot, *[self.open[pid][1].place for pid in rnd.parcels], rnd.window.carport]
        return int(sum(self._metres[a, b] for a, b in pairwise(legs)))

    def _hold(self, depot: str, node: int, rnd: Round) -> Outgoing:
        """Ask the car's book for the round (carport to carport, whole minutes), or the dispatcher for the ride
        vehicle's (depot to depot), and keep it as it is."""
        assert rnd.window is not None and rnd.leave is not None and rnd.back is not None
        if rnd.window.home is not None:
            return self._hold_on_ride_vehicle(depot, node, rnd)
        car = self.cars[rnd.courier]
        start, end = floor_minute(self._at(rnd.leave)), ceil_minute(self._at(rnd.back))
        booking_id = f"delivery:{depot}:{car.id}:{start.astimezone(TOKYO):%Y%m%dT%H%M}"
        asked = Outgoing(COOWNED, CoownedBookingRequested(
            booking_id=booking_id, group=car.group, member=FLEET, car=car.id, start=start, end=end,
            distance_m=min(self._round_metres(node, rnd), 2_000_000)))
        self.held[booking_id] = HeldRound(booking_id, depot, car.id, rnd.parcels, (start, end), asked=asked)
        for pid in rnd.parcels:
            self.on_car[pid] = booking_id
        self.calendar.book(booking_id, car.id, FLEET, start, end)   # busy for every depot until answered
        return asked

    def _hold_on_ride_vehicle(self, depot: str, node: int, rnd: Round) -> Outgoing:
        assert rnd.depot_span is not None and rnd.leave is not None and rnd.back is not None
        start, end = self._at(rnd.depot_span[0]), self._at(rnd.depot_span[1])
        job_id = f"delivery:{depot}:{rnd.courier}:{start.astimezone(TOKYO):%Y%m%dT%H%M%S}"
        kg = sum(self.open[pid][0].weight_kg for pid in rnd.parcels)
        asked = Outgoing(rides.REQUESTS, FleetJobRequested(
            job_id=job_id, vehicle=rnd.courier, depot_lat=float(self.net.lat[node]),
            depot_lon=float(self.net.lon[node]), start=start, end=end, parcels=len(rnd.parcels),
            weight_kg=min(kg, 2_000), distance_m=min(self._round_metres(node, rnd), 2_000_000)))
        self.held[job_id] = HeldRound(job_id, depot, rnd.courier, rnd.parcels, (self._at(rnd.leave),
                                                                                 self._at(rnd.back)),
                                      on_ride_vehicle=True, asked=asked)
        for pid in rnd.parcels:
            self.on_car[pid] = job_id
        return asked

    def on_fleet_answer(self, envelope: Envelope, payload: FleetJobAnswered) -> Iterable[Outgoing]:
        """The dispatcher's answer to one of our rounds on a ride vehicle: refused, it is handled as a car's."""
        if payload.accepted:
            if payload.job_id in self.held:
                self.refusals[payload.vehicle] = 0
            return []
        return self._refused(payload.job_id, payload.reason)

    def on_coowned_answer(self, envelope: Envelope, payload: CoownedBookingAnswered) -> Iterable[Outgoing]:
        """A booking of a co-owned car (a member's, a ride's or our own round's) as the book decided it. A refused
        round of ours takes its hours out of the offer and re-plans its depot (once, however often it arrives)."""
        p = payload
        if p.accepted and p.car is not None:
            self.calendar.book(p.booking_id, p.car, p.member, p.start, p.end)
            if p.booking_id in self.held:
                self.refusals[p.car] = 0
            return []
        self.calendar.release(p.booking_id)
        return self._refused(p.booking_id, p.reason)

    def _block(self, held: HeldRound, start: datetime, end: datetime) -> None:
        if held.on_ride_vehicle:
            self.fleet_blocked.setdefault(held.car, []).append((start, end))
        else:
            self.calendar.block(held.car, start, end)

    def _refused(self, booking_id: str, reason: str) -> list[Outgoing]:
        """One of our rounds refused (by a car's book or a ride vehicle's dispatcher): its hours leave the offer
        and its depot is re-planned, once however often the refusal arrives."""
        held = self.held.pop(booking_id, None)
        if held is None or booking_id in self.refused:
            return []
        self.refused.add(booking_id)
        log.warning("delivery round %s refused: %s", booking_id, reason)
        self._block(held, *held.span)
        self.refusals[held.car] = self.refusals.get(held.car, 0) + 1
        if self.refusals[held.car] >= MAX_REFUSALS:
            # refused for a reason the offer cannot show (a group or car the book does not know, a closed
            # month, a vehicle that carries no parcels): not offered for a day rather than asked again and again
            log.error("%s refused %d times in a row: not offered until %s", held.car,
                      self.refusals[held.car], held.span[0] + timedelta(days=1))
            self._block(held, held.span[0], held.span[0] + timedelta(days=1))
            self.refusals[held.car] = 0
        for pid in held.parcels:
            if self.on_car.get(pid) == booking_id:
                del self.on_car[pid]
        return self._replan(held.depot)

    def on_coowned_close(self, envelope: Envelope, payload: CoownedPeriodClosed) -> Iterable[Outgoing]:
        """A closed month takes no more bookings: its hours are not offered."""
        self.calendar.close(payload.group, payload.period)
        return []

    # ------------------------------------------------------------------ planning
    def _replan(self, depot: str) -> list[Outgoing]:
        now_dt = self.clock()
        now = self._secs(now_dt)
        hour = now_dt.astimezone(TOKYO).hour
        # parcels of a car round already asked for stay on it
        parcels = [parcel for req, parcel in self.open.values() if req.depot == depot and parcel.id not in self.on_car]
        day_end = now_dt.astimezone(TOKYO).replace(hour=self.settings.shift_end_hour, minute=0, second=0,
                                                   microsecond=0)
        shift_end = self._secs(day_end)
        couriers = [Courier(cid, cap, max(shift_end, now + 3600))
                    for cid, cap in self.settings.couriers.get(depot, ())]
        cars = self._car_windows(depot, now_dt, max(day_end, now_dt + timedelta(hours=1)))
        travel = self.net.seconds(list(range(self.net.n_nodes)), hour)
        node = self._depot_node(depot)
        assert node is not None
        plan = plan_depot(node, parcels, couriers, travel, now, self.settings.search_s, cars=cars)
        self.revision += 1
        out: list[Outgoing] = []
        for rnd in plan.rounds:
            if rnd.window is not None:
                out.append(self._hold(depot, node, rnd))
            for pos, (pid, t) in enumerate(zip(rnd.parcels, rnd.times, strict=True)):
                old = self.planned.get(pid)
                new = ParcelAssigned(parcel_id=pid, courier=rnd.courier, position=pos,
                                     planned_at=self.t0 + timedelta(seconds=t), plan_revision=self.revision)
                if old is None or (old.courier, old.position, old.planned_at) != (new.courier, new.position,
                                                                                  new.planned_at):
                    self.planned[pid] = new
                    out.append(Outgoing(ASSIGNMENTS, new))
        for pid, reason in plan.undeliverable.items():
            req, _ = self.open.pop(pid)
            self.planned.pop(pid, None)
            self.closed.add(pid)
            self.final[pid] = no = ParcelUndeliverable(parcel_id=pid, sender=req.sender, reason=reason)
            out.append(Outgoing(ASSIGNMENTS, no))
        return out

    def _failed(self, f: DeliveryFailed) -> list[Outgoing]:
        entry = self.open.pop(f.parcel_id, None)
        if entry is None:   # a redelivered failure: the parcel's return again (never a second one)
            last = self.final.get(f.parcel_id)
            return [Outgoing(ASSIGNMENTS, last)] if isinstance(last, ParcelReturned) else []
        req, _ = entry
        self.planned.pop(f.parcel_id, None)
        booking = self.on_car.pop(f.parcel_id, None)   # its round stays held while the car has others to drive
        self.closed.add(f.parcel_id)
        self.final[f.parcel_id] = back = ParcelReturned(parcel_id=f.parcel_id, sender=req.sender, depot=req.depot,
                                                         reason=f.reason)
        returned = Outgoing(ASSIGNMENTS, back)
        return [returned, *(self._give_back(booking) if booking else [])]

    def _give_back(self, booking_id: str) -> list[Outgoing]:
        """A held round none of whose parcels is left, before it has left: given back, so the car's members (or
        the ride vehicle's riders) have the hours again."""
        held = self.held.get(booking_id)
        if held is None or any(self.on_car.get(pid) == booking_id for pid in held.parcels):
            return []
        if self.clock() >= held.span[0]:
            return []   # already out: the round is driven (and held) as it is
        del self.held[booking_id]
        reason = "its parcels all failed before it left"
        if held.on_ride_vehicle:
            return [Outgoing(rides.REQUESTS, FleetJobCancelled(job_id=booking_id, vehicle=held.car, reason=reason))]
        self.calendar.release(booking_id)
        return [Outgoing(COOWNED, CoownedBookingCancelled(booking_id=booking_id, group=self.cars[held.car].group,
                                                          member=FLEET, reason=reason))]

    def on_coowned_cancel(self, envelope: Envelope, payload: CoownedBookingCancelled) -> Iterable[Outgoing]:
        """A booking given back (a member's, or one of our rounds): its hours are free again."""
        self.calendar.release(payload.booking_id)
        return []

    def _operator(self, depot: str, courier: str) -> str:
        """Who is paid a delivery's payout: a co-owned car's group, a ride vehicle's operator, else the depot's
        courier operator."""
        car = self.cars.get(courier)
        if car is not None:
            return car.group
        offer = self.offers.get(courier)
        return offer.operator if offer is not None else self.settings.operators.get(depot, f"{depot}-couriers")

    def housekeeping(self) -> Iterable[Outgoing]:
        """Parcels whose planned hand-over is past are delivered: they leave the open set and are billed."""
        now = self.clock()
        out: list[Outgoing] = []
        for pid, a in list(self.planned.items()):
            if a.planned_at <= now and pid in self.open:
                req, _ = self.open.pop(pid)
                self.closed.add(pid)
                self.on_car.pop(pid, None)
                fee, payout = delivery_fee(req.weight_kg, self.settings.fees)
                out.append(Outgoing(ASSIGNMENTS, ParcelDelivered(
                    parcel_id=pid, sender=req.sender, courier=a.courier,
                    operator=self._operator(req.depot, a.courier), fee_yen=fee,
                    payout_yen=payout, delivered_at=a.planned_at)))
        return out


def build_service(network: RoadNetwork, settings: LogisticsSettings | None = None,
                  clock: Callable[[], datetime] | None = None) -> Service:
    svc = LogisticsService(network, settings, clock)
    watch = ShopWatch()
    lock = threading.Lock()  # handlers and the timer run in the Kafka adapter's worker threads

    def locked(fn):
        def run(*args):
            with lock:
                return list(fn(*args))
        return run

    return Service(name="logistics", handlers={REQUESTS: {ParcelRequested: locked(svc.on_request),
                                                          DeliveryFailed: locked(svc.on_failed)},
                                               # our own plans and last words, read back (after a restart: the
                                               # state to rebuild the open parcels from, before the requests)
                                               ASSIGNMENTS: {ParcelAssigned: locked(svc.on_assigned_back),
                                                             ParcelDelivered: locked(svc.on_closed_back),
                                                             ParcelUndeliverable: locked(svc.on_closed_back),
                                                             ParcelReturned: locked(svc.on_closed_back)},
                                               SHOP_DAYS: {ShopDayReported: locked(watch.on_report)},
                                               # the co-owned cars' bookings: the calendar of their free hours
                                               COOWNED: {CoownedBookingAnswered: locked(svc.on_coowned_answer),
                                                         CoownedBookingCancelled: locked(svc.on_coowned_cancel),
                                                         CoownedPeriodClosed: locked(svc.on_coowned_close),
                                                         CoownedBookingRequested: ignore,   # the answer decides
                                                         CoownedUsageRecorded: ignore},
                                               # the ride vehicles' idle stretches and the answers to our rounds
                                               rides.ASSIGNMENTS: {rides.VehicleWindowsOffered: locked(svc.on_offer),
                                                                   rides.FleetJobAnswered: locked(svc.on_fleet_answer),
                                                                   rides.RideAnswered: ignore,
                                                                   rides.VehiclePlanned: ignore,
                                                                   rides.RideCompleted: ignore}},
                   timers=[Timer(svc.settings.housekeeping_s, locked(svc.housekeeping))],
                   # Replayed in this order at start: the cars' calendar from their group's topic (members book
                   # months ahead, as mobility replays), the ride vehicles' latest offers from the last day of
                   # mobility's plans, the shop watch's recent days from the reports (their outputs are not
                   # resent), then our own plans and the parcels' requests: a parcel we had planned is open
                   # again as planned, one we never answered is planned now.
                   replay={COOWNED: timedelta(days=400), rides.ASSIGNMENTS: timedelta(days=1),
                           SHOP_DAYS: timedelta(days=2 * watch.rules.window + 2),
                           ASSIGNMENTS: timedelta(days=PARCEL_DAYS), REQUESTS: timedelta(days=PARCEL_DAYS)})
