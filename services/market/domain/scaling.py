"""The one place where money and energy cross between Decimal and the solver's integers.

Energy is counted in Wh (kWh with 3 decimals) and prices in sen, i.e. yen/100 per kWh (yen/kWh with
2 decimals). A flow of ``w`` Wh at a unit cost of ``c`` sen/kWh therefore costs ``w * c`` in units of
1e-5 yen; surplus totals are converted back to yen only here.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

WH_PER_KWH = 1000
SEN_PER_YEN = 100
_KWH_Q = Decimal("0.001")
_YEN_Q = Decimal("0.01")


def to_wh(kwh: Decimal) -> int:
    """kWh (at most 3 decimals) -> integer Wh; refuses finer values instead of rounding silently."""
    wh = kwh * WH_PER_KWH
    if wh != wh.to_integral_value():
        raise ValueError(f"{kwh} kWh is finer than 1 Wh")
    return int(wh)


def to_sen(yen_per_kwh: Decimal) -> int:
    """yen/kWh (at most 2 decimals) -> integer sen/kWh."""
    sen = yen_per_kwh * SEN_PER_YEN
    if sen != sen.to_integral_value():
        raise ValueError(f"{yen_per_kwh} yen/kWh is finer than 0.01 yen")
    return int(sen)


def kwh(wh: int) -> Decimal:
    return (Decimal(int(wh)) / WH_PER_KWH).quantize(_KWH_Q)


def yen_per_kwh(sen: int) -> Decimal:
    return (Decimal(int(sen)) / SEN_PER_YEN).quantize(_YEN_Q)


def yen_from_wh_sen(amount: int) -> Decimal:
    """An amount in Wh x sen/kWh (1e-5 yen) -> yen, rounded half-even to 0.01 yen."""
    return (Decimal(int(amount)) / (WH_PER_KWH * SEN_PER_YEN)).quantize(_YEN_Q, rounding=ROUND_HALF_EVEN)
