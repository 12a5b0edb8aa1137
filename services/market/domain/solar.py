"""PV output per 30-minute slot from pvlib's clear-sky model at the site, scaled by a weather factor.

pvlib works offline (it ships its Linke turbidity and altitude tables). We use the Ineichen clear-sky
global horizontal irradiance at each slot's midpoint; a module's output is GHI / 1 kW/m2 x kWp x
performance ratio x slot length. Horizontal irradiance is a conservative stand-in for tilted modules.
The clear sky is an upper bound: the weather factor (0..1) brings it to a cloudy day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from shared.units import KWH_Q


@dataclass(frozen=True)
class SiteLocation:
    latitude: float
    longitude: float
    tz: str
    altitude_m: float


EBINA = SiteLocation(35.4525, 139.3910, "Asia/Tokyo", 54.0)


@lru_cache(maxsize=64)
def clear_sky_ghi(day: date, location: SiteLocation = EBINA) -> tuple[float, ...]:
    """48 clear-sky GHI values (W/m2) for the local ``day``, at the midpoints of its 30-minute slots."""
    import pandas as pd  # imported here: pvlib takes seconds to import and only agents need it
    import pvlib

    site = pvlib.location.Location(location.latitude, location.longitude, location.tz,
                                   altitude=location.altitude_m)
    start = pd.Timestamp(day).tz_localize(location.tz) + pd.Timedelta(minutes=15)
    index = pd.date_range(start, periods=48, freq="30min")
    ghi = site.get_clearsky(index, model="ineichen")["ghi"].clip(lower=0)
    return tuple(float(v) for v in ghi)


def pv_kwh(slot: datetime, kwp: Decimal, weather_factor: float = 1.0, performance_ratio: float = 0.8,
           location: SiteLocation = EBINA) -> Decimal:
    """Energy (kWh, 3 dp) a ``kwp`` array yields in the 30-minute slot starting at ``slot``."""
    if not 0 <= weather_factor <= 1:
        raise ValueError("weather_factor must be within 0..1")
    from zoneinfo import ZoneInfo

    local = slot.astimezone(ZoneInfo(location.tz))
    index = local.hour * 2 + local.minute // 30
    ghi = clear_sky_ghi(local.date(), location)[index]
    kwh = ghi / 1000.0 * float(kwp) * performance_ratio * weather_factor * 0.5
    return Decimal(str(round(kwh, 3))).quantize(KWH_Q)


def slot_of_day(day: date, index: int, tz: str = EBINA.tz) -> datetime:
    """UTC start of the ``index``-th (0..47) 30-minute slot of the local ``day``."""
    from zoneinfo import ZoneInfo

    local = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz)) + timedelta(minutes=30 * index)
    return local.astimezone(UTC)
