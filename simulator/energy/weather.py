"""A month of real weather as PV output per 30-minute slot, from the standard-year climate file in ``data/solar``.

``read_climate`` is the only function that touches a file; the rest is pure. The file's hour ``h`` (1-24)
is the hour ending at ``h``, so it covers the local interval [h-1, h); both 30-minute slots of that hour
get its mean irradiance.
"""

from __future__ import annotations

import calendar
import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulator.paths import REPO_ROOT

CLIMATE_CSV = REPO_ROOT / "data" / "solar" / "pyhees_climateData_region6_standard_year_hourly.csv"
WEATHER_ATTRIBUTION = ("気象データ: BRI-EES-House/pyhees (MIT), 省エネ基準 地域6 標準年 · "
                       "standard-year weather, region 6")


@dataclass(frozen=True)
class Climate:
    """Hourly columns of the standard year (8,760 rows)."""

    month: np.ndarray
    day: np.ndarray
    hour: np.ndarray          # 1..24, the hour ending then
    ghi_w_m2: np.ndarray      # global horizontal irradiance
    temp_c: np.ndarray


def read_climate(path: Path = CLIMATE_CSV) -> Climate:
    """Read the Shift-JIS file: month, day, hour, temperature, humidity, DNI, DHI, night radiation,
    sun altitude (degrees), sun azimuth. GHI = DNI · sin(altitude) + DHI while the sun is up."""
    with path.open(encoding="cp932", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    data = np.array([[float(v) for v in r[:10]] for r in rows if r and r[0].strip()])
    if data.shape[0] != 8760:
        raise ValueError(f"{path}: expected 8,760 hourly rows, found {data.shape[0]}")
    altitude = np.radians(data[:, 8])
    ghi = np.where(altitude > 0, data[:, 5] * np.sin(np.clip(altitude, 0, None)), 0.0) + data[:, 6]
    return Climate(data[:, 0].astype(int), data[:, 1].astype(int), data[:, 2].astype(int), ghi, data[:, 3])


def month_days(climate: Climate, month: int) -> int:
    return int(climate.day[climate.month == month].max())


def pv_kwh_per_kwp(climate: Climate, month: int, days: int | None = None, performance_ratio: float = 0.8,
                   first_day: int = 1) -> np.ndarray:
    """kWh one kWp yields in each 30-minute slot of ``days`` days from ``first_day`` (48 per day; by default
    to the end of the month)."""
    last = month_days(climate, month) if days is None else min(month_days(climate, month), first_day + days - 1)
    n = last - first_day + 1
    if n < 1:
        raise ValueError(f"month {month} has no day {first_day}")
    rows = (climate.month == month) & (climate.day >= first_day) & (climate.day <= last)
    hourly = climate.ghi_w_m2[rows].reshape(n, 24)      # hour ending 1..24 -> index 0..23 = [h-1, h)
    per_slot = np.repeat(hourly, 2, axis=1) / 1000.0 * performance_ratio * 0.5
    return per_slot.reshape(-1)


def days_in(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]
