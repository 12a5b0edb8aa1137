"""The group's cars booked without conflict: members first, then the fleet in the hours members left free.

A booking holds a car from ``start`` to ``end`` (minutes from the period's start) plus a turnaround after it
(the car is returned, plugged in and checked before anyone else takes it). A booking that overlaps another
one on the same car is refused with the booking it collides with and the cars free at that time, so the member
can take another car at once. Members book first: the fleet may only book inside the windows
``remaining_windows`` offers, so a ride or delivery never takes a car a member already holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FLEET = "fleet"  # the ride/delivery fleet's bookings carry this as their member
DAY_MIN = 24 * 60


class CoownershipError(ValueError):
    """Input that breaks a rule of the co-ownership core; the message names the field and the rule."""


@dataclass(frozen=True)
class Car:
    id: str
    battery_wh: int
    wh_per_km: int
    instalment_sen: int   # the purchase instalment due per period
    insurance_sen: int    # the insurance premium per period

    def __post_init__(self) -> None:
        if not self.id:
            raise CoownershipError("car id must not be empty")
        for name in ("battery_wh", "wh_per_km"):
            if getattr(self, name) <= 0:
                raise CoownershipError(f"car {self.id} {name} must be positive")
        for name in ("instalment_sen", "insurance_sen"):
            if getattr(self, name) < 0:
                raise CoownershipError(f"car {self.id} {name} must not be negative")


@dataclass(frozen=True)
class Booking:
    id: str
    member: str        # a member's id, or FLEET for a ride or delivery job
    car: str
    start: int         # minutes from the period's start
    end: int
    distance_m: int = 0

    @property
    def minutes(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Window:
    """Hours of a car no member holds, offered to the ride/delivery fleet."""

    car: str
    start: int
    end: int

    @property
    def minutes(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Refusal:
    booking: Booking
    reason: str


def hhmm(minute: int) -> str:
    """``day D HH:MM`` of a minute of the period (day 1 is the first), for reasons a person reads."""
    day, rest = divmod(minute, DAY_MIN)
    return f"day {day + 1} {rest // 60:02d}:{rest % 60:02d}"


class BookingBook:
    """Every booking of the group's cars in one period; ``book`` keeps them conflict-free."""

    def __init__(self, cars: Iterable[Car], members: Iterable[str], period_min: int, turnaround_min: int = 15) -> None:
        self.cars = {c.id: c for c in cars}
        self.members = frozenset(members)
        if not self.cars:
            raise CoownershipError("cars must not be empty")
        if not self.members:
            raise CoownershipError("members must not be empty")
        if FLEET in self.members:
            raise CoownershipError(f"member id {FLEET!r} is reserved for the fleet's bookings")
        if period_min <= 0 or turnaround_min < 0:
            raise CoownershipError("period_min must be positive and turnaround_min not negative")
        self.period_min = period_min
        self.turnaround_min = turnaround_min
        self._by_car: dict[str, list[Booking]] = {c: [] for c in self.cars}
        self._ids: set[str] = set()

    def bookings(self, car: str | None = None) -> list[Booking]:
        """Bookings in start order (of one car, or of all cars by car then start)."""
        cars = [car] if car is not None else sorted(self._by_car)
        return [b for c in cars for b in self._by_car[c]]

    def _clash(self, booking: Booking) -> Booking | None:
        gap = self.turnaround_min
        for other in self._by_car[booking.car]:
            if booking.start < other.end + gap and other.start < booking.end + gap:
                return other
        return None

    def _problem(self, booking: Booking) -> str | None:
        if booking.id in self._ids:
            return f"booking id {booking.id} is already taken"
        if booking.car not in self.cars:
            return f"car {booking.car!r} is not one of the group's cars ({', '.join(sorted(self.cars))})"
        if booking.member != FLEET and booking.member not in self.members:
            return f"{booking.member!r} is not a member of the group"
        if booking.end <= booking.start:
            return f"a booking must end after it starts ({hhmm(booking.start)} - {hhmm(booking.end)})"
        if booking.start < 0 or booking.end > self.period_min:
            return "a booking must lie inside the period"
        if booking.distance_m < 0:
            return "distance_m must not be negative"
        if booking.member == FLEET and not any(
                w.car == booking.car and w.start <= booking.start and booking.end <= w.end
                for w in self.remaining_windows()):
            return (f"the fleet may book {booking.car} only inside the hours members left free; "
                    f"{hhmm(booking.start)} - {hhmm(booking.end)} is not one of them")
        clash = self._clash(booking)
        if clash is not None:
            who = "a ride/delivery job" if clash.member == FLEET else clash.member
            free = self.free_cars(booking.start, booking.end)
            hint = f"; free then: {', '.join(free)}" if free else "; no car is free then"
            return (f"{booking.car} is booked by {who} from {hhmm(clash.start)} to {hhmm(clash.end)} "
                    f"(booking {clash.id}, {self.turnaround_min} min turnaround){hint}")
        return None

    def book(self, booking: Booking) -> Refusal | None:
        """Add ``booking`` unless it breaks a rule; the refusal says which and why (nothing is changed then)."""
        problem = self._problem(booking)
        if problem is not None:
            return Refusal(booking, problem)
        rows = self._by_car[booking.car]
        rows.append(booking)
        rows.sort(key=lambda b: (b.start, b.id))
        self._ids.add(booking.id)
        return None

    def get(self, booking_id: str) -> Booking | None:
        return next((b for rows in self._by_car.values() for b in rows if b.id == booking_id), None)

    def cancel(self, booking_id: str) -> Booking | None:
        """Remove a booking (returned; None if there was none)."""
        found = self.get(booking_id)
        if found is not None:
            self._by_car[found.car].remove(found)
            self._ids.discard(booking_id)
        return found

    def clashes(self, booking: Booking) -> list[Booking]:
        """Every booking of the same car that ``booking`` overlaps (turnaround included), other than itself."""
        gap = self.turnaround_min
        return [o for o in self._by_car.get(booking.car, []) if o.id != booking.id
                and booking.start < o.end + gap and o.start < booking.end + gap]

    def free_cars(self, start: int, end: int) -> list[str]:
        """Cars no booking holds from ``start`` to ``end`` (with the turnaround either side)."""
        return [c for c in sorted(self.cars) if self._clash(Booking("?", FLEET, c, start, end)) is None]

    def remaining_windows(self, min_minutes: int = 60) -> list[Window]:
        """Per car, the stretches no member holds (turnaround kept clear before and after each member's
        booking), at least ``min_minutes`` long: what the fleet is offered. Fleet bookings do not shrink the
        offer (they are placed inside it)."""
        out: list[Window] = []
        gap = self.turnaround_min
        for car in sorted(self._by_car):
            t = 0
            for b in self._by_car[car]:
                if b.member == FLEET:
                    continue
                if b.start - gap - t >= min_minutes:
                    out.append(Window(car, t, b.start - gap))
                t = max(t, b.end + gap)
            if self.period_min - t >= min_minutes:
                out.append(Window(car, t, self.period_min))
        return out
