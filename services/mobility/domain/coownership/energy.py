"""Whose kWh came from which charge: each user of a car pays for the energy that replaced what they drove.

Rule: per car, the period's driven Wh and its charged Wh are two streams in time order, and the n-th Wh driven
is matched to the n-th Wh charged (first in, first out). So a member whose trip is followed by a sunny
afternoon on the carport's PV gets that PV; one who comes back at night and needs the car again at seven gets
the grid energy charged overnight. Driven Wh beyond what the period charged came from the battery's charge at
the start; they are valued at the car's average mix this period. Why per trip rather than one share per car:
members who leave the car where it can soak up PV should see it in their own bill.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from services.mobility.domain.coownership.bookings import CoownershipError


@dataclass(frozen=True)
class Use:
    """Energy a user's booking took out of a car's battery (attributed when the booking ends)."""

    user: str
    car: str
    at: int
    wh: int


@dataclass(frozen=True)
class Charge:
    """Energy a car took in one charging interval, of which ``pv_wh`` came from local PV."""

    car: str
    at: int
    wh: int
    pv_wh: int

    def __post_init__(self) -> None:
        if self.wh < 0 or not 0 <= self.pv_wh <= self.wh:
            raise CoownershipError(f"charge of {self.car} at minute {self.at}: need 0 <= pv_wh <= wh")


@dataclass(frozen=True)
class EnergyUse:
    """A user's driven Wh and the (exact, fractional) part of them that was local PV."""

    wh: int
    renewable_wh: Fraction

    @property
    def renewable_share(self) -> Fraction:
        return self.renewable_wh / self.wh if self.wh else Fraction(0)


def _pv_between(charges: list[Charge], lo: int, hi: int) -> Fraction:
    """PV Wh in the charge stream's cumulative interval [lo, hi) (each charge's PV spread evenly over it)."""
    pv = Fraction(0)
    at = 0
    for c in charges:
        a, b = at, at + c.wh
        at = b
        overlap = min(b, hi) - max(a, lo)
        if overlap > 0:
            pv += Fraction(c.pv_wh * overlap, c.wh)
        if at >= hi:
            break
    return pv


def attribute(uses: Iterable[Use], charges: Iterable[Charge]) -> dict[str, EnergyUse]:
    """Per user, their driven Wh and how much of it the period's PV charged (FIFO per car, as above)."""
    by_car_use: dict[str, list[Use]] = defaultdict(list)
    by_car_charge: dict[str, list[Charge]] = defaultdict(list)
    for u in uses:
        if u.wh < 0:
            raise CoownershipError(f"use of {u.car} by {u.user}: wh must not be negative")
        by_car_use[u.car].append(u)
    for c in charges:
        if c.wh > 0:
            by_car_charge[c.car].append(c)
    wh: dict[str, int] = defaultdict(int)
    pv: dict[str, Fraction] = defaultdict(Fraction)
    for car, car_uses in by_car_use.items():
        stream = sorted(by_car_charge.get(car, []), key=lambda c: c.at)
        charged = sum(c.wh for c in stream)
        mix = Fraction(sum(c.pv_wh for c in stream), charged) if charged else Fraction(0)
        at = 0
        for u in sorted(car_uses, key=lambda u: (u.at, u.user)):
            lo, hi = at, at + u.wh
            at = hi
            matched = max(0, min(hi, charged) - lo)
            pv[u.user] += _pv_between(stream, lo, lo + matched) + mix * (u.wh - matched)
            wh[u.user] += u.wh
    return {user: EnergyUse(wh[user], pv[user]) for user in sorted(wh)}
