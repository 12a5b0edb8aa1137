"""Bidding profiles: the price an agent puts on a kWh, by its battery's state of charge (seed Table 1).

A table is a few (state of charge %, yen/kWh) points, interpolated linearly between them and flat beyond
the ends. The price is the agent's value of one more stored kWh: it bids up to that price to buy and
asks at least that price to sell. A green profile adds a premium that applies only to renewable kWh.

A profile that ``plans`` (opt-in; the built-in ``planned`` one, or ``plan: true`` in a community file) lets
its battery follow a plan of the day from a price forecast instead (:mod:`services.market.domain.day_plan`);
its table still prices everything the plan does not cover and every slot without a forecast.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import pairwise

_YEN = Decimal("0.01")


@dataclass(frozen=True)
class BidTable:
    points: tuple[tuple[Decimal, Decimal], ...]  # (state of charge in %, yen/kWh), increasing SoC

    def __post_init__(self) -> None:
        if not self.points:
            raise ValueError("a bid table needs at least one (soc %, yen/kWh) point")
        socs = [s for s, _ in self.points]
        if socs != sorted(socs) or len(set(socs)) != len(socs):
            raise ValueError(f"bid table states of charge must increase strictly, got {socs}")
        for soc, price in self.points:
            if not 0 <= soc <= 100:
                raise ValueError(f"state of charge {soc} % is outside 0..100")
            if price < 0:
                raise ValueError(f"price {price} yen/kWh is negative")

    @classmethod
    def of(cls, *points: tuple[float | int | str | Decimal, float | int | str | Decimal]) -> BidTable:
        return cls(tuple((Decimal(str(s)), Decimal(str(p))) for s, p in points))

    def price_at(self, soc_pct: Decimal | float) -> Decimal:
        """Price in yen/kWh (2 dp) at ``soc_pct`` percent."""
        soc = Decimal(str(soc_pct))
        pts = self.points
        if soc <= pts[0][0]:
            return pts[0][1].quantize(_YEN)
        for (s0, p0), (s1, p1) in pairwise(pts):
            if soc <= s1:
                return (p0 + (p1 - p0) * (soc - s0) / (s1 - s0)).quantize(_YEN, rounding=ROUND_HALF_EVEN)
        return pts[-1][1].quantize(_YEN)


@dataclass(frozen=True)
class Profile:
    """An owner's preference: a bid table and the premium paid for renewable kWh (0 for none)."""

    name: str
    table: BidTable
    green_premium: Decimal = Decimal("0")
    plans: bool = False

    def buy_price(self, soc_pct: Decimal | float) -> Decimal:
        return self.table.price_at(soc_pct)

    def sell_price(self, soc_pct: Decimal | float) -> Decimal:
        return self.table.price_at(soc_pct)

    def renewable_value(self, soc_pct: Decimal | float) -> Decimal:
        """What a renewable kWh is worth to this owner (the green profile's column in Table 1)."""
        return self.buy_price(soc_pct) + self.green_premium


ECONOMY = Profile("economy", BidTable.of((20, 20), (60, 15), (80, 10)))
GREEN = Profile("green", ECONOMY.table, green_premium=Decimal("5"))
PRICE_FIRST = Profile("price_first", BidTable.of((20, 20), (60, 10), (80, 10)))
PLANNED = Profile("planned", ECONOMY.table, plans=True)
BUILTIN_PROFILES: dict[str, Profile] = {p.name: p for p in (ECONOMY, GREEN, PRICE_FIRST, PLANNED)}
