"""Co-owned EVs on the bus: members book the group's cars, the period's costs are split and billed.

A member's ``CoownedBookingRequested`` is answered at once (the car held, or why not and which cars are free
then) from the group's book of that month (``domain.coownership.bookings``: members first, a turnaround after
each booking). The group's cars are also metered by the charging service (``ev.sessions``: what each car
took, counted when its transaction ends) and may earn fares as ride vehicles (``RideCompleted``: the payout
is the fleet's credit for the cars' remaining hours) and delivery payouts as couriers (logistics'
``ParcelDelivered`` with the car as courier and the group as operator); all become ``CoownedUsageRecorded`` on
the group's topic, and only those records change the month. An operator's ``CoownedPeriodClosed`` splits the month
(``domain.coownership.split``) and publishes ``CostShareSettled``, which settlement books as each member's
bill; a closed month takes no more bookings.

The cars are also ride vehicles in the hours members left free: the dispatcher asks ``windows`` for them and
books each ride's trip with ``hold`` as the fleet's booking, published here like a member's answer. A hold also
needs the charge: the car's estimated battery (``domain.coownership.battery``: full at the month's start, less
each booking's distance, plus each metered charge) must keep its reserve after the job, and every later member
booking must still find what it needs. Other fleet
jobs (logistics' delivery rounds) ask on the topic: a ``CoownedBookingRequested`` of member ``fleet`` naming
its car is booked with the same ``hold`` rules and answered like a member's request (the first answer again
on redelivery). A booking may be given back before it starts (``CoownedBookingCancelled``, by whoever booked it:
logistics does for a round whose parcels all failed before it left).

Why everything is kept on ``mobility.coowned``: replaying it (``Service.replay``) rebuilds each book exactly
(the same requests in the same order get the same answers), so a restart loses and doubles nothing. A
redelivered request gets its first answer again; a redelivered close republishes the same split.

The meter does not say which of a charge's kWh were local PV; the charging service's bill does
(``ev.bills``: the PV share of what its plan booked for the transaction). Both are recorded under the same
``ref``, and the record keeps the PV part whichever of the two comes first, so a car charged through the
planner pays the PV price for its PV kWh, and one charged with no plan pays the grid's.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from services.mobility.domain.coownership.battery import shortfall
from services.mobility.domain.coownership.bookings import FLEET, Booking, BookingBook, Car, CoownershipError
from services.mobility.domain.coownership.energy import Charge
from services.mobility.domain.coownership.split import CostSplit, Prices, split_costs
from services.mobility.settings import TOKYO
from shared.contracts.base import Envelope
from shared.contracts.charging import ChargingBilled, ChargingSessionMetered
from shared.contracts.logistics import ParcelDelivered
from shared.contracts.mobility import (
    COOWNED,
    COST_SHARES,
    CoownedBookingAnswered,
    CoownedBookingCancelled,
    CoownedBookingRequested,
    CoownedPeriodClosed,
    CoownedUsageRecorded,
    CostShareSettled,
    MemberCostShare,
    RideCompleted,
)
from shared.errors import DomainError
from shared.runtime import Outgoing
from shared.units import kwh_to_wh

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GroupSpec:
    """A co-owning group: its members with their ownership units, its cars, and the energy prices it pays."""

    id: str
    shares: dict[str, int]
    cars: tuple[Car, ...]
    prices: Prices = field(default_factory=Prices)
    turnaround_min: int = 15
    reserve_pct: int = 20   # of a car's battery the fleet must leave in it (``domain.coownership.battery``)

    def __post_init__(self) -> None:
        if not self.id or not self.shares or not self.cars:
            raise CoownershipError(f"group {self.id!r}: id, members and cars must not be empty")
        if not 0 <= self.reserve_pct < 100:
            raise CoownershipError(f"group {self.id!r}: reserve_pct must be from 0 to 99")


def default_groups() -> tuple[GroupSpec, ...]:
    """The Ebina group of the co-owned report (``citymatch report co-owned``): five members, two EVs."""
    cars = (Car("ev-leaf", 40_000, 150, 6_850_000, 620_000), Car("ev-sakura", 20_000, 125, 4_230_000, 480_000))
    return (GroupSpec("ebina-kashiwa-ev", {"aoki": 2, "baba": 1, "chiba": 2, "doi": 1, "endo": 1}, cars,
                      Prices(1500, 2620)),)


def load_groups(path: Path) -> tuple[GroupSpec, ...]:
    """Groups from a JSON file: ``[{"id", "shares": {member: units}, "cars": [{"id", "battery_kwh", "wh_per_km",
    "instalment_yen", "insurance_yen"}], "pv_yen_per_kwh", "grid_yen_per_kwh", "reserve_pct" (20)}]``."""
    groups = []
    for g in json.loads(path.read_text(encoding="utf-8")):
        cars = tuple(Car(c["id"], int(c["battery_kwh"]) * 1000, int(c["wh_per_km"]), int(c["instalment_yen"]) * 100,
                         int(c["insurance_yen"]) * 100) for c in g["cars"])
        prices = Prices(round(float(g.get("pv_yen_per_kwh", 15)) * 100), round(float(g.get("grid_yen_per_kwh", 26.2))
                                                                             * 100))
        groups.append(GroupSpec(g["id"], {str(m): int(u) for m, u in g["shares"].items()}, cars, prices,
                                reserve_pct=int(g.get("reserve_pct", 20))))
    return tuple(groups)


def month_of(moment: datetime) -> tuple[str, datetime, datetime]:
    """The period (``YYYY-MM``, Japan time) a moment falls in, with its start and end."""
    local = moment.astimezone(TOKYO)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return f"{start:%Y-%m}", start, end


def period_bounds(period: str) -> tuple[datetime, datetime]:
    year, month = (int(x) for x in period.split("-"))
    _, start, end = month_of(datetime(year, month, 15, 12, tzinfo=TOKYO))
    return start, end


def _minutes(period_start: datetime, start: datetime, end: datetime) -> tuple[int, int]:
    """A booking's minutes of its period: the start rounded down, the end up (it holds every minute it touches)."""
    return int((start - period_start).total_seconds() // 60), -(-int((end - period_start).total_seconds()) // 60)


def cost_share_event(group: str, period: str, period_end: datetime, split: CostSplit) -> CostShareSettled:
    """The split as settlement books it (the members' own energy apart from the fleet's); the contract
    re-checks that every column sums to the group's total."""
    members = tuple(MemberCostShare(
        member=m.member, use_min=m.use_min, distance_m=m.distance_m, wh=m.wh, renewable_wh=m.renewable_wh,
        instalment_sen=m.instalment_sen, insurance_sen=m.insurance_sen, energy_sen=m.energy_sen,
        fleet_energy_sen=m.fleet_energy_sen, credit_sen=m.credit_sen) for m in split.members)
    return CostShareSettled(
        group=group, period=period, period_end=period_end, instalment_sen=split.instalment_sen,
        insurance_sen=split.insurance_sen, energy_sen=split.energy_sen - split.fleet_energy_sen,
        fleet_energy_sen=split.fleet_energy_sen, credit_sen=split.revenue_sen, members=members)


RIDE_HOLD_PREFIX = "ride:"   # the fleet's bookings of ride trips (``ride:<request>``); others are other jobs


def charge_ref(charger: str, transaction_id: int) -> str:
    """The one name of a charging transaction: its metered session and its bill record the same charge."""
    return f"charge:{charger}/{transaction_id}"


@dataclass
class _Month:
    book: BookingBook
    start: datetime
    end: datetime
    charges: dict[str, Charge] = field(default_factory=dict)   # by charger/transaction
    credit_sen: dict[str, int] = field(default_factory=dict)   # by ride request
    settled: CostShareSettled | None = None


class CoownedGroups:
    """Every group's month books and answers; handlers return what to publish."""

    def __init__(self, groups: Iterable[GroupSpec]) -> None:
        self.groups = {g.id: g for g in groups}
        self.car_group = {c.id: g.id for g in self.groups.values() for c in g.cars}
        self.months: dict[tuple[str, str], _Month] = {}
        self.answers: dict[str, CoownedBookingAnswered] = {}
        self.published: set[str] = set()  # booking ids whose answer was read back from the topic
        self.cancelled: set[str] = set()  # bookings given back (``on_cancel``): a late answer does not re-book them

    def _month(self, group: GroupSpec, period: str) -> _Month:
        key = (group.id, period)
        if key not in self.months:
            start, end = period_bounds(period)
            book = BookingBook(group.cars, group.shares, int((end - start).total_seconds() // 60),
                               group.turnaround_min)
            self.months[key] = _Month(book, start, end)
        return self.months[key]

    def on_booking(self, envelope: Envelope, p: CoownedBookingRequested) -> list[Outgoing]:
        if p.booking_id in self.answers:
            return [Outgoing(COOWNED, self.answers[p.booking_id])]
        period, start, end = month_of(p.start)
        answer = self._fleet(p, period) if p.member == FLEET else self._decide(p, period, start, end)
        self.answers[p.booking_id] = answer
        return [Outgoing(COOWNED, answer)]

    def _fleet(self, p: CoownedBookingRequested, period: str) -> CoownedBookingAnswered:
        """A fleet job asked for on the bus (a delivery round on a named car): booked by the same rules as a
        ride's trip (``hold``: only inside the hours members left free, no clash), answered like a member."""
        group = self.groups.get(p.group)
        if group is None:
            reason = f"no co-owning group {p.group!r}"
        elif p.car is None or self.car_group.get(p.car) != group.id:
            reason = f"a fleet booking must name one of {p.group}'s cars ({', '.join(c.id for c in group.cars)})"
        else:
            held = self.hold(p.car, p.booking_id, p.start, p.end, p.distance_m)
            if not isinstance(held, str):
                return held
            reason = held
        return CoownedBookingAnswered(booking_id=p.booking_id, group=p.group, member=FLEET, accepted=False,
                                      start=p.start, end=p.end, period=period, reason=reason,
                                      distance_m=p.distance_m)

    def _decide(self, p: CoownedBookingRequested, period: str, start: datetime, end: datetime
                ) -> CoownedBookingAnswered:
        def no(reason: str, free: tuple[str, ...] = ()) -> CoownedBookingAnswered:
            return CoownedBookingAnswered(booking_id=p.booking_id, group=p.group, member=p.member, accepted=False,
                                          start=p.start, end=p.end, period=period, reason=reason, free_cars=free)

        group = self.groups.get(p.group)
        if group is None:
            return no(f"no co-owning group {p.group!r}")
        if p.member not in group.shares:
            return no(f"{p.member} is not a member of {p.group}")
        if p.end > end:
            return no(f"a booking must end in the month it starts (by {end:%Y-%m-%d %H:%M} Japan time): book the "
                      "rest as a second booking")
        month = self._month(group, period)
        if month.settled is not None:
            return no(f"{period} is closed: its costs are already split")
        a, b = _minutes(start, p.start, p.end)
        cars = [p.car] if p.car else []
        cars += [c.id for c in group.cars if c.id not in cars]
        if p.car and p.car not in {c.id for c in group.cars}:
            return no(f"{p.car} is not one of {p.group}'s cars ({', '.join(c.id for c in group.cars)})")
        first = None
        for car in cars:  # the car asked for, then any other that is free (the answer says which)
            refusal = month.book.book(Booking(p.booking_id, p.member, car, a, b, p.distance_m))
            if refusal is None:
                return CoownedBookingAnswered(booking_id=p.booking_id, group=p.group, member=p.member, accepted=True,
                                              car=car, start=p.start, end=p.end, period=period)
            first = first or refusal
        return no(first.reason if first else "no car is free then", tuple(month.book.free_cars(a, b)))

    def on_cancel(self, envelope: Envelope, p: CoownedBookingCancelled) -> list[Outgoing]:
        """A booking given back: removed from its month's book if whoever cancels booked it and it has not started
        by the cancellation's time (the envelope's, so a replay decides the same); its hours are free again. A
        cancellation that breaks either rule changes nothing (logged: the booking stands)."""
        found = [(m, b) for (gid, _), m in self.months.items() if gid == p.group
                 if (b := m.book.get(p.booking_id)) is not None]
        if not found:
            log.warning("cancellation of %s: no such booking in %s", p.booking_id, p.group)
            return []
        month, booking = found[0]
        if booking.member != p.member:
            log.warning("cancellation of %s by %s refused: it is %s's", p.booking_id, p.member, booking.member)
            return []
        if month.start + timedelta(minutes=booking.start) <= envelope.occurred_at:
            log.warning("cancellation of %s refused: it started at %s", p.booking_id,
                        month.start + timedelta(minutes=booking.start))
            return []
        month.book.cancel(p.booking_id)
        self.cancelled.add(p.booking_id)
        return []

    def on_answer(self, envelope: Envelope, p: CoownedBookingAnswered) -> list[Outgoing]:
        """Our own answers (and the fleet's holds), read back. Live they agree with the book already. On replay
        they are what was decided: a member's request re-decided in topic order can meet another book than it
        did live (a ride's hold taken while the request still waited on the topic), so the book is made to hold
        exactly the published answers; a booking only the replay accepted gives way to a published one."""
        self.answers[p.booking_id] = p
        self.published.add(p.booking_id)
        group = self.groups.get(p.group)
        if group is None:
            return []
        month = self._month(group, p.period)
        held = month.book.get(p.booking_id)
        if not p.accepted or p.car is None:
            if held is not None:
                month.book.cancel(p.booking_id)
            return []
        if p.booking_id in self.cancelled:
            return []
        a, b = _minutes(month.start, p.start, p.end)
        if held is not None and (held.car, held.start, held.end) == (p.car, a, b):
            return []
        if held is not None:
            month.book.cancel(p.booking_id)
        booking = Booking(p.booking_id, p.member, p.car, a, b, held.distance_m if held else p.distance_m)
        for other in month.book.clashes(booking):
            if other.id not in self.published:
                month.book.cancel(other.id)
        refusal = month.book.book(booking)
        if refusal is not None:
            log.error("published booking %s does not fit the rebuilt book: %s", p.booking_id, refusal.reason)
        return []

    # ------------------------------------------------------------------ the ride fleet's side
    def windows(self, car: str, since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
        """The hours ``car``'s members left free (``BookingBook.remaining_windows``) that overlap ``since`` to
        ``until``, less the fleet's other jobs on it (delivery rounds, with the turnaround either side: the
        rides' own trips are in the car's plan); none for a car of no group or in a closed month."""
        gid = self.car_group.get(car)
        if gid is None:
            return []
        out: list[tuple[datetime, datetime]] = []
        moment = since
        while moment < until:
            period, start, end = month_of(moment)
            month = self._month(self.groups[gid], period)
            if month.settled is None:
                gap = month.book.turnaround_min
                jobs = [b for b in month.book.bookings(car) if b.member == FLEET
                        and not b.id.startswith(RIDE_HOLD_PREFIX)]
                for w in month.book.remaining_windows():
                    if w.car != car:
                        continue
                    spans = [(w.start, w.end)]
                    for b in jobs:
                        spans = [piece for a, z in spans for piece in ((a, min(z, b.start - gap)),
                                                                       (max(a, b.end + gap), z)) if piece[1] > piece[0]]
                    for a, z in spans:
                        lo, hi = start + timedelta(minutes=a), start + timedelta(minutes=z)
                        if lo < until and hi > since:
                            out.append((lo, hi))
            moment = end
        return out

    def hold(self, car: str, booking_id: str, start: datetime, end: datetime, distance_m: int = 0
             ) -> CoownedBookingAnswered | str:
        """Book a ride's trip on a group car for the fleet: the answer to publish on the group's topic, or why
        the book refused it (then the ride must not have the car). The same hold again gets its first answer."""
        gid = self.car_group.get(car)
        if gid is None:
            return f"{car} is none of the groups' cars"
        previous = self.answers.get(booking_id)
        if previous is not None and previous.accepted and previous.car == car:
            return previous
        period, m_start, m_end = month_of(start)
        if end > m_end:
            return f"a trip must end in the month it starts (by {m_end:%Y-%m-%d %H:%M})"
        month = self._month(self.groups[gid], period)
        if month.settled is not None:
            return f"{period} is closed: its costs are already split"
        a, b = _minutes(m_start, start, end)
        job = Booking(booking_id, FLEET, car, a, b, distance_m)
        refusal = month.book.book(job)
        if refusal is not None:
            return refusal.reason
        group = self.groups[gid]
        spec = next(c for c in group.cars if c.id == car)
        short = shortfall(spec, [x for x in month.book.bookings(car) if x.id != booking_id],
                          month.charges.values(), job, spec.battery_wh * group.reserve_pct // 100)
        if short is not None:
            month.book.cancel(booking_id)
            return short.reason(car, f"{(m_start + timedelta(minutes=short.at)).astimezone(TOKYO):%H:%M}")
        answer = CoownedBookingAnswered(
            booking_id=booking_id, group=gid, member=FLEET, accepted=True, car=car,
            start=m_start + timedelta(minutes=a), end=m_start + timedelta(minutes=b), period=period,
            distance_m=distance_m)
        self.answers[booking_id] = answer
        return answer

    def on_session(self, envelope: Envelope, p: ChargingSessionMetered) -> list[Outgoing]:
        """A group car's finished charging transaction, recorded in the month it ended in."""
        gid = self.car_group.get(p.vehicle)
        if gid is None or not p.final:
            return []
        return [Outgoing(COOWNED, CoownedUsageRecorded(
            group=gid, period=month_of(p.read_at)[0], ref=charge_ref(p.charger, p.transaction_id), car=p.vehicle,
            at=p.read_at, wh=kwh_to_wh(p.kwh)))]

    def on_bill(self, envelope: Envelope, p: ChargingBilled) -> list[Outgoing]:
        """A group car's charging bill: the same transaction as its metered session, with its PV part."""
        gid = self.car_group.get(p.vehicle)
        if gid is None:
            return []
        return [Outgoing(COOWNED, CoownedUsageRecorded(
            group=gid, period=month_of(p.stopped_at)[0], ref=charge_ref(p.charger, p.transaction_id),
            car=p.vehicle, at=p.stopped_at, wh=kwh_to_wh(p.kwh), pv_wh=kwh_to_wh(p.renewable_kwh)))]

    def on_ride(self, envelope: Envelope, p: RideCompleted) -> list[Outgoing]:
        """A fare a group car earned as a ride vehicle: its payout is the owners' credit for that month."""
        gid = self.car_group.get(p.vehicle)
        if gid is None:
            return []
        return [Outgoing(COOWNED, CoownedUsageRecorded(
            group=gid, period=month_of(p.dropped_off_at)[0], ref=f"ride:{p.request_id}", car=p.vehicle,
            at=p.dropped_off_at, credit_sen=p.payout_yen * 100))]

    def on_delivery(self, envelope: Envelope, p: ParcelDelivered) -> list[Outgoing]:
        """A parcel a group car delivered (logistics' ``ParcelDelivered`` with the car as courier): its payout,
        paid to the group, is the owners' credit for that month, as a ride's is. A payout that went to anyone
        else (a car of the group driven for a courier operator) is not the group's credit."""
        gid = self.car_group.get(p.courier)
        if gid is None or p.operator != gid:
            return []
        return [Outgoing(COOWNED, CoownedUsageRecorded(
            group=gid, period=month_of(p.delivered_at)[0], ref=f"delivery:{p.parcel_id}", car=p.courier,
            at=p.delivered_at, credit_sen=p.payout_yen * 100))]

    def on_usage(self, envelope: Envelope, p: CoownedUsageRecorded) -> list[Outgoing]:
        group = self.groups.get(p.group)
        if group is None:
            return []
        month = self._month(group, p.period)
        if month.settled is not None:
            return []  # recorded after the close: the split is final (the record stays on the topic)
        if p.wh:
            earlier = month.charges.get(p.ref)   # the meter's record and the bill name one transaction
            pv_wh = min(p.wh, max(p.pv_wh, earlier.pv_wh if earlier else 0))
            month.charges[p.ref] = Charge(p.car, int((p.at - month.start).total_seconds() // 60), p.wh, pv_wh)
        if p.credit_sen:
            month.credit_sen[p.ref] = p.credit_sen
        return []

    def on_close(self, envelope: Envelope, p: CoownedPeriodClosed) -> list[Outgoing]:
        group = self.groups.get(p.group)
        if group is None:
            raise DomainError(f"group: no co-owning group {p.group!r}")
        month = self._month(group, p.period)
        if month.settled is None:
            split = split_costs(month.book, group.shares, month.charges.values(), group.prices,
                                sum(month.credit_sen.values()))
            month.settled = cost_share_event(group.id, p.period, month.end, split)
        return [Outgoing(COST_SHARES, month.settled)]
