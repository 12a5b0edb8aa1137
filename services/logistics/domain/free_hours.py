"""When each co-owned car is free for a delivery round: a read model of the group's book (mobility keeps the
book and decides every hold; this only predicts where a hold will be accepted).

Built from the accepted answers on ``mobility.coowned``: members' bookings and the fleet's holds (rides and our
own rounds). It follows the book's rules: the fleet is offered, per car and per calendar month (Japan time),
the gaps between members' bookings with the turnaround kept clear on both sides, at least ``min_window`` long;
inside those, another fleet hold (with its turnaround either side) is not free. Bookings hold every minute they
touch (start rounded down, end up), as the book counts them. A refused answer for a known booking removes it
(replay can make the book give way); a refused round of our own blocks the hours it asked for, so the
next plan does not try it again; a closed month offers nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")
FLEET = "fleet"  # the member of the fleet's bookings on the group's book
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Busy:
    booking_id: str
    car: str
    member: str       # a member, or FLEET
    start: datetime   # whole minutes
    end: datetime


def floor_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def ceil_minute(moment: datetime) -> datetime:
    down = floor_minute(moment)
    return down if down == moment else down + MINUTE


def month_bounds(moment: datetime) -> tuple[str, datetime, datetime]:
    """The month (``YYYY-MM``, Japan time) a moment falls in, with its start and end."""
    local = moment.astimezone(TOKYO)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return f"{start:%Y-%m}", start, end


def subtract(spans: list[tuple[datetime, datetime]], lo: datetime, hi: datetime) -> list[tuple[datetime, datetime]]:
    out = []
    for a, b in spans:
        if hi <= a or b <= lo:
            out.append((a, b))
            continue
        if a < lo:
            out.append((a, lo))
        if hi < b:
            out.append((hi, b))
    return out


class FreeHours:
    """Each co-owned car's bookings as published, and the free windows they leave (see the module docstring)."""

    def __init__(self, cars: dict[str, str], turnaround: timedelta = timedelta(minutes=15),
                 min_window: timedelta = timedelta(hours=1)) -> None:
        if turnaround < timedelta(0) or min_window <= timedelta(0):
            raise ValueError("turnaround must not be negative and min_window must be positive")
        self.group_of = dict(cars)          # car -> its co-owning group
        self.turnaround = turnaround
        self.min_window = min_window
        self.busy: dict[str, Busy] = {}     # by booking id
        self.blocked: dict[str, list[tuple[datetime, datetime]]] = {c: [] for c in cars}
        self.closed: set[tuple[str, str]] = set()   # (group, period)

    def book(self, booking_id: str, car: str, member: str, start: datetime, end: datetime) -> None:
        """An accepted booking (or our own hold while it waits for its answer); the same id again replaces it."""
        if car not in self.group_of:
            return
        if end <= start:
            raise ValueError(f"booking {booking_id}: end must be after start")
        self.busy[booking_id] = Busy(booking_id, car, member, floor_minute(start), ceil_minute(end))

    def release(self, booking_id: str) -> Busy | None:
        """A booking the book does not hold (refused, or given way on replay)."""
        return self.busy.pop(booking_id, None)

    def block(self, car: str, start: datetime, end: datetime) -> None:
        """Offer nothing on ``car`` from ``start`` to ``end`` (the book refused a round planned there)."""
        if car in self.blocked:
            self.blocked[car].append((start, end))

    def close(self, group: str, period: str) -> None:
        self.closed.add((group, period))

    def bookings(self, car: str) -> list[Busy]:
        return sorted((b for b in self.busy.values() if b.car == car), key=lambda b: (b.start, b.booking_id))

    def windows(self, car: str, since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
        """The stretches of ``car`` a new fleet hold may take, clipped to ``since`` to ``until``, in order."""
        if car not in self.group_of or until <= since:
            return []
        gap = self.turnaround
        out: list[tuple[datetime, datetime]] = []
        moment = since
        while moment < until:
            period, m_start, m_end = month_bounds(moment)
            moment = m_end
            if (self.group_of[car], period) in self.closed:
                continue
            rows = [b for b in self.bookings(car) if b.start < m_end and b.end > m_start]
            offered, t = [], m_start
            for b in rows:
                if b.member == FLEET:
                    continue
                if b.start - gap - t >= self.min_window:
                    offered.append((t, b.start - gap))
                t = max(t, b.end + gap)
            if m_end - t >= self.min_window:
                offered.append((t, m_end))
            for b in rows:
                if b.member == FLEET:
                    offered = subtract(offered, b.start - gap, b.end + gap)
            for lo, hi in self.blocked[car]:
                offered = subtract(offered, lo, hi)
            out += [(max(a, since), min(b, until)) for a, b in offered if a < until and b > since]
        return [(a, b) for a, b in out if b > a]

    def cars(self) -> Iterable[str]:
        return self.group_of.keys()
