"""Units and the one rounding rule of the ledger.

Money is held as integer **sen** (0.01 yen) and energy as integer **Wh**; nothing is ever a float.
A trade's kWh carries at most 3 decimals (Wh) and its prices at most 2 decimals (yen/kWh), so every
component (energy value, wheeling fee, platform fee) is an exact Decimal with up to 5 decimals in yen.
The rule: **each component is rounded once, per trade, to whole sen with ROUND_HALF_EVEN**, and every
posting is built from the rounded components only. The buyer's payment is the sum of rounded
components, so the postings of a trade always sum to exactly zero; rounding never leaks money.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shared.units import SEN_PER_YEN, amount_sen, kwh_to_wh, sen_to_yen, wh_to_kwh

__all__ = ["SEN_PER_YEN", "amount_sen", "kwh_to_wh", "sen_to_yen", "wh_to_kwh"]


@dataclass(frozen=True)
class FeeSchedule:
    """Fees the platform takes on top of the grid operator's wheeling fee (which comes on each trade).

    ``platform_fee_per_kwh`` is deducted from the seller's proceeds.
    """

    platform_fee_per_kwh: Decimal = Decimal("0")

    def __post_init__(self) -> None:
        if self.platform_fee_per_kwh < 0:
            raise ValueError("platform fee must not be negative")
