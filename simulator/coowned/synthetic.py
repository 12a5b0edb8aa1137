"""A seeded month of a co-owned group: members' bookings (first come, first served), the fleet's jobs in the
hours left, and PV-first charging at the group's carport from the standard-year weather in ``data/solar``.

Charging follows the charging service's order of priorities, driver first then PV: whenever a car stands at the
carport it soaks up the carport's PV (the emptier car first), and it buys grid energy only when the next
bookings' kWh plus the reserve could not be reached otherwise, as late as possible (so PV gets every chance
first). A trip that still finds the battery short is topped up on the way at a public charger (grid energy).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import numpy as np

from services.logistics.domain.fees import delivery_fee
from services.mobility.domain.coownership.bookings import DAY_MIN, FLEET, Booking, BookingBook, Car, Refusal
from services.mobility.domain.coownership.energy import Charge
from services.mobility.domain.fares import FarePolicy
from simulator.coowned.config import GroupConfig, MemberSpec
from simulator.energy.weather import days_in, pv_kwh_per_kwp, read_climate

JST = timezone(timedelta(hours=9))
SLOT_MIN = 30


@dataclass(frozen=True)
class Request:
    """What a member would like to book (before the book says yes or no)."""

    member: str
    prefers: str
    start: int
    end: int
    distance_m: int


@dataclass
class GroupMonth:
    config: GroupConfig
    start: datetime
    days: int
    book: BookingBook
    charges: list[Charge]
    revenue_sen: int
    requests: int = 0
    moved: int = 0                 # refused on the preferred car, booked on another
    refused: list[Refusal] = field(default_factory=list)   # no car free
    offered_min: int = 0
    fleet_jobs: dict[str, int] = field(default_factory=dict)
    pv_wh: int = 0
    pv_used_wh: int = 0
    public_wh: int = 0

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)


def _q(minute: float) -> int:
    """To the quarter hour: bookings start and end on :00, :15, :30, :45."""
    return round(minute / 15) * 15


def persona_requests(spec: MemberSpec, start: datetime, days: int, rng: random.Random) -> list[Request]:
    """A member's wishes for the period, by persona (times in Japan time, distances in metres)."""
    out: list[Request] = []

    def want(day: int, begin_h: float, hours: float, km: float) -> None:
        s = day * DAY_MIN + _q(begin_h * 60)
        out.append(Request(spec.name, spec.prefers, s, s + max(30, _q(hours * 60)), int(km * 1000)))

    for d in range(days):
        weekend = (start + timedelta(days=d)).weekday() >= 5
        u = rng.random()
        if spec.persona == "commuter" and not weekend and u < 0.7:
            want(d, 7.5 + rng.uniform(-0.25, 0.25), 11 + rng.uniform(-0.5, 0.5), rng.uniform(30, 44))
        elif spec.persona == "shopper" and u < (0.5 if weekend else 0.35):
            want(d, rng.choice([10, 10.5, 11, 13, 13.5, 14]), rng.uniform(2, 3), rng.uniform(8, 18))
        elif spec.persona == "family":
            if weekend and u < 0.7:
                want(d, 9 + rng.uniform(-0.5, 0.5), rng.uniform(6, 9), rng.uniform(60, 140))
            elif not weekend and u < 0.15:
                want(d, 17, 2, rng.uniform(8, 12))
        elif spec.persona == "evening" and u < 0.35:
            want(d, rng.choice([18, 18.5, 19, 19.5, 20]), rng.uniform(2, 3), rng.uniform(12, 25))
        elif spec.persona == "occasional" and u < 0.15:
            want(d, rng.uniform(8, 17), rng.uniform(2, 5), rng.uniform(10, 60))
    return out


def book_members(book: BookingBook, requests: list[Request], month: GroupMonth) -> None:
    """First come, first served: the preferred car, else any other car, else refused with the first reason."""
    counter: dict[str, int] = {}
    for r in requests:
        counter[r.member] = counter.get(r.member, 0) + 1
        booking_id = f"{r.member}-{counter[r.member]}"
        cars = [r.prefers, *(c for c in sorted(book.cars) if c != r.prefers)]
        first: Refusal | None = None
        for n, car in enumerate(cars):
            refusal = book.book(Booking(booking_id, r.member, car, r.start, r.end, r.distance_m))
            if refusal is None:
                month.moved += n > 0
                break
            first = first or refusal
        else:
            assert first is not None
            month.refused.append(first)


def book_fleet(book: BookingBook, config: GroupConfig, rng: random.Random, month: GroupMonth) -> int:
    """Rides (an hour: 2-3 riders) and delivery rounds (two hours: 8-14 parcels) in the offered daytime hours;
    the owners get ``owner_share_pct`` of the operator's payout. Returns that revenue in sen."""
    fares = FarePolicy()
    revenue = 0
    windows = book.remaining_windows(config.min_window_min)
    month.offered_min = sum(w.minutes for w in windows)
    n = 0
    for w in windows:
        t = -(-w.start // 60) * 60
        while t + 60 <= w.end:
            hour = (t % DAY_MIN) // 60
            if not (7 <= hour < 22 and rng.random() < config.fleet_hour_probability):
                t += 60
                continue
            if hour < 20 and t + 120 <= w.end and rng.random() < 0.3:
                kind, minutes = "delivery", 120
                parcels = [delivery_fee(rng.uniform(0.5, 8.0)) for _ in range(rng.randint(8, 14))]
                payout = sum(p for _, p in parcels)
                distance = int(rng.uniform(15, 30) * 1000)
            else:
                kind, minutes = "ride", 60
                direct = [int(rng.uniform(2, 6) * 1000) for _ in range(rng.randint(2, 3))]
                payout = sum(fares.payout_yen(fares.fare_yen(m, 1, "carshare")) for m in direct)
                distance = int(sum(direct) * 1.4)  # with the empty legs between riders
            n += 1
            if book.book(Booking(f"fleet-{n}", FLEET, w.car, t, t + minutes, distance)) is None:
                revenue += payout * config.owner_share_pct  # yen x pct / 100 = sen
                month.fleet_jobs[kind] = month.fleet_jobs.get(kind, 0) + 1
            t += minutes
    return revenue


def charge(book: BookingBook, config: GroupConfig, pv_wh: np.ndarray, month: GroupMonth) -> list[Charge]:
    """Slot by slot: trips take their energy when they start, standing cars soak up PV, then the grid only for
    what the next day's bookings and the reserve need and the remaining standing slots could not give."""
    slots = len(pv_wh)
    charger = int(config.charger_kw * 1000 * SLOT_MIN / 60)
    cars = sorted(book.cars)
    cap = {c: book.cars[c].battery_wh for c in cars}
    reserve = {c: cap[c] * config.reserve_pct // 100 for c in cars}
    soc = {c: cap[c] * config.start_soc_pct // 100 for c in cars}
    trips = {c: [(b.start, b.end, b.distance_m * book.cars[c].wh_per_km // 1000) for b in book.bookings(c)]
             for c in cars}
    parked = {c: np.ones(slots, dtype=bool) for c in cars}
    for c in cars:
        for s, e, _ in trips[c]:
            parked[c][s // SLOT_MIN:-(-e // SLOT_MIN)] = False
    standing = {c: np.concatenate([[0], np.cumsum(parked[c])]) for c in cars}  # standing slots before k
    starts: dict[str, dict[int, list[tuple[int, int, int]]]] = {c: {} for c in cars}
    for c in cars:
        for trip in trips[c]:
            starts[c].setdefault(trip[0] // SLOT_MIN, []).append(trip)
    charges: list[Charge] = []
    for k in range(slots):
        for c in cars:
            for _, e, wh in starts[c].get(k, []):
                short = max(0, wh - soc[c])
                if short:
                    charges.append(Charge(c, e, short, 0))
                    month.public_wh += short
                soc[c] = soc[c] + short - wh
        pv_left = int(pv_wh[k])
        given = dict.fromkeys(cars, 0)
        for c in sorted((c for c in cars if parked[c][k]), key=lambda c: (soc[c] / cap[c], c)):
            given[c] = min(charger, cap[c] - soc[c], pv_left)
            pv_left -= given[c]
        for c in cars:
            if not parked[c][k]:
                continue
            soc[c] += given[c]
            need, cum = reserve[c], 0
            for s, _, wh in trips[c]:
                if s < (k + 1) * SLOT_MIN:
                    continue
                if s >= (k + 1) * SLOT_MIN + DAY_MIN:
                    break
                cum += wh
                later = int(standing[c][s // SLOT_MIN] - standing[c][k + 1])
                need = max(need, cum + reserve[c] - later * charger)
            grid = max(0, min(need - soc[c], charger - given[c], cap[c] - soc[c]))
            soc[c] += grid
            if given[c] + grid:
                charges.append(Charge(c, (k + 1) * SLOT_MIN, given[c] + grid, given[c]))
            month.pv_used_wh += given[c]
    return charges


def simulate(config: GroupConfig) -> GroupMonth:
    """The month, deterministic for a given config (its seed drives every random choice)."""
    rng = random.Random(config.seed)
    days = config.days or days_in(config.year, config.month)
    start = datetime(config.year, config.month, 1, tzinfo=JST)
    members = config.active_members
    cars = [Car(c.id, c.battery_kwh * 1000, c.wh_per_km, c.instalment_yen * 100 * days // days_in(
        config.year, config.month), c.insurance_yen * 100 * days // days_in(config.year, config.month))
        for c in config.cars]
    book = BookingBook(cars, [m.name for m in members], days * DAY_MIN, config.turnaround_min)
    month = GroupMonth(config, start, days, book, [], 0)
    requests = [r for m in members for r in persona_requests(m, start, days, rng)]
    rng.shuffle(requests)
    month.requests = len(requests)
    book_members(book, requests, month)
    month.revenue_sen = book_fleet(book, config, rng, month)
    per_kwp = pv_kwh_per_kwp(read_climate(), config.month, days)
    pv_wh = np.rint(per_kwp * config.pv_kwp * 1000).astype(np.int64)
    month.pv_wh = int(pv_wh.sum())
    month.charges = charge(book, config, pv_wh, month)
    return month


def prices_sen(config: GroupConfig) -> tuple[int, int]:
    """PV and grid prices in sen/kWh from the config's yen decimals."""
    return int(Decimal(config.pv_yen_per_kwh) * 100), int(Decimal(config.grid_yen_per_kwh) * 100)
