"""Stylised daily load shapes per participant kind, turned into kWh per 30-minute slot.

The shapes are hourly shares of a day's consumption (they sum to 1): homes peak in the morning and the
evening, offices work 8-19 on weekdays, shopping centres follow their 10-21 opening hours. They stand
in for metered data until a forecaster publishes on ``energy.forecasts``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from shared.units import KWH_Q

_HOUSEHOLD = (2, 1.6, 1.4, 1.4, 1.5, 2.2, 4, 5.5, 5, 3.6, 3.2, 3.4, 3.8, 3.4, 3.2, 3.4, 4.2, 6, 7.6, 8, 7.4,
              6.2, 4.6, 3)
_OFFICE = (1.2, 1.2, 1.2, 1.2, 1.2, 1.4, 2, 4, 7, 8, 8.2, 8.2, 7.4, 8, 8.2, 8, 7.6, 6.4, 4, 2.4, 1.6, 1.4,
           1.2, 1.2)
_SHOPPING = (1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.7, 2.2, 3.4, 5.2, 6.2, 6.6, 6.8, 6.8, 6.7, 6.6, 6.6, 6.6, 6.4,
             6.2, 5.6, 3.2, 2, 1.7)
_FLAT = (1,) * 24


def _normalise(shape: tuple[float, ...]) -> tuple[float, ...]:
    total = sum(shape)
    return tuple(v / total for v in shape)


SHAPES: dict[str, tuple[float, ...]] = {
    "household": _normalise(_HOUSEHOLD), "office": _normalise(_OFFICE), "shopping_centre": _normalise(_SHOPPING),
    "flat": _normalise(_FLAT),
}


def load_kwh(slot: datetime, daily_kwh: Decimal, shape: str = "household", tz: str = "Asia/Tokyo") -> Decimal:
    """Consumption (kWh, 3 dp) in the slot starting at ``slot``; offices use a quarter of it at weekends."""
    try:
        shares = SHAPES[shape]
    except KeyError:
        raise ValueError(f"unknown load shape {shape!r} (known: {', '.join(SHAPES)})") from None
    local = slot.astimezone(ZoneInfo(tz))
    kwh = float(daily_kwh) * shares[local.hour] / 2
    if shape == "office" and local.weekday() >= 5:
        kwh *= 0.25
    return Decimal(str(round(kwh, 3))).quantize(KWH_Q)
