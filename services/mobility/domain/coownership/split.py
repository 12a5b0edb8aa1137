"""A period's bill per member: the cars' instalments and insurance by use, energy by each member's own kWh at
its PV/grid mix, and what the cars earned for rides and deliveries credited back by ownership share.

Rules (each amount is apportioned with ``largest_remainder``, so the parts sum exactly to the cost):

* **Instalments and insurance by booked hours**, over the whole group's fleet. These are costs of having a car
  ready, and a booking takes a car away from every other member and from the fleet for its whole length,
  driven or not; kilometres are paid already through the energy they take. Cars are pooled (a member takes
  whichever is free), so hours count across cars. A period in which no member booked anything falls back to
  ownership shares (the owners still owe the lender and the insurer).
* **Energy by kWh at its mix**: each user (member or the fleet) is valued at their driven Wh, the PV part at the
  local PV price and the rest at the grid's (``energy.attribute`` says which Wh came from PV); the period's
  whole charging cost is apportioned by those values. Leaving the car where PV charges it is cheaper.
* **The fleet's hours**: what rides and deliveries paid for the remaining hours is credited to the members by
  ownership share, and the energy those jobs took (valued like a member's) is charged the same way: the
  owners together are the fleet's supplier.

bill = instalment + insurance + energy + fleet energy - credit (negative: the member is paid).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from services.mobility.domain.coownership.apportion import largest_remainder
from services.mobility.domain.coownership.bookings import FLEET, BookingBook, CoownershipError
from services.mobility.domain.coownership.energy import Charge, EnergyUse, Use, attribute


@dataclass(frozen=True)
class Prices:
    """Energy prices in sen per kWh: local PV cheaper than the grid (what the PV owner is paid for it)."""

    pv_sen_per_kwh: int = 1500
    grid_sen_per_kwh: int = 2620

    def __post_init__(self) -> None:
        if self.pv_sen_per_kwh < 0 or self.grid_sen_per_kwh < 0:
            raise CoownershipError("prices must not be negative")

    def value(self, wh: int | Fraction, pv_wh: Fraction) -> Fraction:
        """Sen, exactly, of ``wh`` of which ``pv_wh`` were PV."""
        return (pv_wh * self.pv_sen_per_kwh + (Fraction(wh) - pv_wh) * self.grid_sen_per_kwh) / 1000


@dataclass(frozen=True)
class MemberBill:
    member: str
    share: int                 # ownership units
    use_min: int               # booked minutes
    distance_m: int
    wh: int
    renewable_wh: int          # PV part of wh, rounded half to even (display; the bill uses the exact value)
    instalment_sen: int
    insurance_sen: int
    energy_sen: int
    fleet_energy_sen: int
    credit_sen: int

    @property
    def renewable_share(self) -> float:
        return self.renewable_wh / self.wh if self.wh else 0.0

    @property
    def charges_sen(self) -> int:
        return self.instalment_sen + self.insurance_sen + self.energy_sen + self.fleet_energy_sen

    @property
    def bill_sen(self) -> int:
        return self.charges_sen - self.credit_sen


@dataclass(frozen=True)
class CostSplit:
    members: tuple[MemberBill, ...]
    instalment_sen: int
    insurance_sen: int
    energy_sen: int            # the whole period's charging cost (members' energy + the fleet's)
    fleet_energy_sen: int
    revenue_sen: int
    fleet_min: int
    fleet_distance_m: int
    fleet_wh: int

    @property
    def bills_sen(self) -> int:
        return sum(m.bill_sen for m in self.members)


def uses_of(book: BookingBook) -> list[Use]:
    """Every booking's driven Wh (distance x the car's consumption, rounded down), at the booking's end."""
    return [Use(b.member, b.car, b.end, b.distance_m * book.cars[b.car].wh_per_km // 1000) for b in book.bookings()]


def split_costs(book: BookingBook, shares: Mapping[str, int], charges: Iterable[Charge], prices: Prices,
                revenue_sen: int) -> CostSplit:
    """The period's split, from its bookings, its charging and what the fleet paid for its hours."""
    members = sorted(book.members)
    if set(shares) != set(members):
        raise CoownershipError("shares must name every member once")
    if any(s <= 0 for s in shares.values()):
        raise CoownershipError("ownership shares must be positive")
    if revenue_sen < 0:
        raise CoownershipError("revenue_sen must not be negative")
    owners = {m: shares[m] for m in members}
    charges = list(charges)
    energy = attribute(uses_of(book), charges)
    total_energy = round(sum((prices.value(c.wh, Fraction(c.pv_wh)) for c in charges), Fraction(0)))
    users = [*members, FLEET]
    values: dict[str, Fraction | int] = {
        u: prices.value(energy[u].wh, energy[u].renewable_wh) if u in energy else Fraction(0) for u in users}
    if total_energy and not any(values.values()):
        values = {**owners, FLEET: 0}  # charged but never driven: the owners bought it
    energy_parts = largest_remainder(total_energy, values)
    fleet_energy = largest_remainder(energy_parts[FLEET], owners)
    use_min = {m: sum(b.minutes for b in book.bookings() if b.member == m) for m in members}
    by_use: Mapping[str, int] = use_min if any(use_min.values()) else owners
    instalment = sum(c.instalment_sen for c in book.cars.values())
    insurance = sum(c.insurance_sen for c in book.cars.values())
    inst = largest_remainder(instalment, by_use)
    ins = largest_remainder(insurance, by_use)
    credit = largest_remainder(revenue_sen, owners)
    none = EnergyUse(0, Fraction(0))
    bills = tuple(MemberBill(
        m, owners[m], use_min[m], sum(b.distance_m for b in book.bookings() if b.member == m),
        energy.get(m, none).wh, round(energy.get(m, none).renewable_wh), inst[m], ins[m], energy_parts[m],
        fleet_energy[m], credit[m]) for m in members)
    fleet = [b for b in book.bookings() if b.member == FLEET]
    return CostSplit(bills, instalment, insurance, total_energy, energy_parts[FLEET], revenue_sen,
                     sum(b.minutes for b in fleet), sum(b.distance_m for b in fleet), energy.get(FLEET, none).wh)
