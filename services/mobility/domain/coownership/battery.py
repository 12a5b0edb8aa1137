"""Whether a co-owned car has the charge for one more fleet job: an estimate from the group's own records, since
no car here reports its state of charge.

What went out is each booking's distance at the car's consumption (taken when the booking starts, so a trip is
never counted as driven after it needed the energy); what came in is each metered charge (counted when its
transaction ended). The battery is taken to be full when the period starts, and the level is clipped to between
empty and full after each step. A member's booking without a distance counts as no driving (it cannot be
checked, and members book first).

The fleet may take the car only if, after the job, the car keeps its reserve at the job's start and every later
member booking of the period still starts with what it needs: members first, for energy as for hours.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.mobility.domain.coownership.bookings import FLEET, Booking, Car
from services.mobility.domain.coownership.energy import Charge


@dataclass(frozen=True)
class Shortfall:
    """Why the car cannot take the job: the Wh it would have, the Wh it needs, and whose booking (the job's own
    when it is the reserve that would be broken)."""

    booking: str
    member: str
    at: int           # minute of the period
    have_wh: int
    need_wh: int

    def reason(self, car: str, hhmm: str) -> str:
        if self.member == FLEET:
            return (f"{car} would be below its reserve: about {self.have_wh / 1000:.1f} kWh at {hhmm}, the trip "
                    f"needs {self.need_wh / 1000:.1f} kWh and the reserve")
        return (f"{car} would leave {self.member}'s booking at {hhmm} short of charge: about "
                f"{self.have_wh / 1000:.1f} kWh for {self.need_wh / 1000:.1f} kWh")


def trip_wh(car: Car, booking: Booking) -> int:
    return booking.distance_m * car.wh_per_km // 1000


def levels(car: Car, bookings: Iterable[Booking], charges: Iterable[Charge]) -> dict[str, int]:
    """The estimated Wh in ``car``'s battery as each of its bookings starts (see the module docstring)."""
    events: list[tuple[int, int, str, int]] = []   # (minute, order, booking id, delta Wh)
    for b in bookings:
        if b.car == car.id:
            events.append((b.start, 1, b.id, -trip_wh(car, b)))
    for c in charges:
        if c.car == car.id:
            events.append((c.at, 0, "", c.wh))     # a charge that ended in that minute comes first
    level, out = car.battery_wh, {}
    for _, _, booking, delta in sorted(events):
        if booking:
            out[booking] = level
        level = max(0, min(car.battery_wh, level + delta))
    return out


def shortfall(car: Car, bookings: Iterable[Booking], charges: Iterable[Charge], job: Booking,
              reserve_wh: int) -> Shortfall | None:
    """The first energy rule ``job`` would break on ``car``, or None if it fits: the reserve at its own start,
    then any later member booking it would leave short that was not short without it."""
    rows, charged = [b for b in bookings if b.car == car.id], list(charges)
    without, with_job = levels(car, rows, charged), levels(car, [*rows, job], charged)
    need = trip_wh(car, job)
    if with_job[job.id] - need < reserve_wh:
        return Shortfall(job.id, FLEET, job.start, with_job[job.id], need + reserve_wh)
    for b in sorted(rows, key=lambda r: (r.start, r.id)):
        wanted = trip_wh(car, b)
        if b.member != FLEET and b.start > job.start and with_job[b.id] < wanted <= without[b.id]:
            return Shortfall(b.id, b.member, b.start, with_job[b.id], wanted)
    return None
