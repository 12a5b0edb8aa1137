"""The one place where money and energy cross between Decimal and the solver's integers.

Energy is counted in Wh (kWh with 3 decimals) and prices in sen, i.e. yen/100 per kWh (yen/kWh with
2 decimals). A flow of ``w`` Wh at a unit cost of ``c`` sen/kWh therefore costs ``w * c`` in units of
1e-5 yen; surplus totals are converted back to yen only here.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from shared.units import SEN_PER_YEN, WH_PER_KWH, YEN_Q
from shared.units import kwh_to_wh as to_wh
from shared.units import sen_to_yen as yen_per_kwh
from shared.units import wh_to_kwh as kwh
from shared.units import yen_to_sen as to_sen

__all__ = ["SEN_PER_YEN", "WH_PER_KWH", "kwh", "to_sen", "to_wh", "yen_from_wh_sen", "yen_per_kwh"]


def yen_from_wh_sen(amount: int) -> Decimal:
    """An amount in Wh x sen/kWh (1e-5 yen) -> yen, rounded half-even to 0.01 yen."""
    return (Decimal(int(amount)) / (WH_PER_KWH * SEN_PER_YEN)).quantize(YEN_Q, rounding=ROUND_HALF_EVEN)
