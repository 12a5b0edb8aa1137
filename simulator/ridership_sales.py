"""The link between station ridership and shopping-centre footfall and sales, calibrated on ViNA WALK.

When ViNA WALK opened beside the station in 2002, ridership rose by about 30 % (Odakyu), 20 % (Sotetsu)
and 50 % (JR). Reading that jump as trips the centre induced, the shopping share of a line's station
events is ``u / (1 + u)``; the simulator uses these shares to split ridership into purposes, and turns
the footfall it simulates back into sales (integer yen) and into ridership that depends on shopping.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

VINAWALK_OPENING_UPLIFT = {"odakyu": 0.30, "sotetsu": 0.20, "jr": 0.50}


def shopping_share(line: str) -> float:
    """Share of the line's station events that exist because of shopping (calibrated, see module doc)."""
    uplift = VINAWALK_OPENING_UPLIFT[line]
    return uplift / (1.0 + uplift)


def sales_yen(footfall: int, spend_yen: int, purchase_rate: float) -> int:
    """Estimated takings: visits x share who buy x average spend, rounded to whole yen."""
    rate = Decimal(str(purchase_rate)).quantize(Decimal("0.0001"))
    return int((Decimal(footfall) * rate * Decimal(spend_yen)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def ridership_at_stake(events_by_line: dict[str, int], footfall_change_pct: float) -> dict[str, int]:
    """Station events per line that would follow a footfall change of ``footfall_change_pct`` percent."""
    return {line: round(events * shopping_share(line) * footfall_change_pct / 100.0)
            for line, events in events_by_line.items()}
