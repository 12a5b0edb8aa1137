"""The Higashi-Fuji community as arrays over the simulated days: sites (homes, office), their load and PV
per 30-minute slot, and each plug-in hybrid's whereabouts and trips. Pure and seeded.

A car is, in every slot, at a site (its home or the office, plugged in) or away (``AWAY``, driving or parked
without a charger). ``drive_kwh[v, t]`` is what the trip that ends with slot ``t`` took from the battery; a
departure at slot ``t`` needs ``need_kwh[v, t]`` in the battery (the next trip plus a reserve): driver first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from services.market.domain.load import SHAPES
from simulator.energy.params import CommunityParams
from simulator.energy.weather import Climate, pv_kwh_per_kwp

SLOTS_PER_DAY = 48
SLOT_H = 0.5
AWAY = -1
TZ = "Asia/Tokyo"


@dataclass(frozen=True)
class Site:
    id: str
    kind: str                 # "home" or "office"
    group: str
    tariff: float             # retail yen/kWh of its supply contract
    profile: str              # the market bidding profile of its agent
    load_kwh: np.ndarray      # (T,)
    pv_kwh: np.ndarray        # (T,)
    pv_kwp: float
    battery_kwh: float = 0.0
    battery_kw: float = 0.0


@dataclass(frozen=True)
class Car:
    id: str
    home: int                 # site index of its owner's home
    loc: np.ndarray           # (T,) site index or AWAY
    drive_kwh: np.ndarray     # (T,) energy of the trip ending with this slot
    need_kwh: np.ndarray      # (T,) charge a departure at the start of this slot needs (0 elsewhere)


@dataclass(frozen=True)
class CommunityDays:
    params: CommunityParams
    start: datetime
    days: int
    sites: tuple[Site, ...]
    cars: tuple[Car, ...]
    office: int
    weekend: np.ndarray       # (days,) bool

    @property
    def horizon(self) -> int:
        return self.days * SLOTS_PER_DAY

    def slot_time(self, t: int) -> datetime:
        return self.start + timedelta(minutes=30 * t)

    def load(self) -> np.ndarray:
        return np.stack([s.load_kwh for s in self.sites])

    def pv(self) -> np.ndarray:
        return np.stack([s.pv_kwh for s in self.sites])

    def tariffs(self) -> np.ndarray:
        return np.array([s.tariff for s in self.sites])

    def ev_homes(self) -> list[int]:
        return sorted({c.home for c in self.cars})


def _day_factors(rng: np.random.Generator, n_sites: int, days: int, sigma: float) -> np.ndarray:
    """Log-normal day-to-day factors with mean 1."""
    return np.exp(rng.normal(-sigma * sigma / 2, sigma, size=(n_sites, days)))


def _shape_per_slot(shape: str) -> np.ndarray:
    return np.repeat(np.array(SHAPES[shape]), 2) / 2


def build_community(params: CommunityParams, climate: Climate) -> CommunityDays:
    """Sites, loads, PV and car schedules for the month (or its first ``params.days`` days)."""
    year, month = params.calendar_year, params.month
    per_kwp = pv_kwh_per_kwp(climate, month, params.days, params.performance_ratio, params.first_day)
    days = len(per_kwp) // SLOTS_PER_DAY
    first = date(year, month, params.first_day)
    weekend = np.array([(first + timedelta(days=d)).weekday() >= 5 for d in range(days)])
    rng = np.random.default_rng(params.seed)
    factors = _day_factors(rng, params.n_homes + 1, days, params.load_day_sigma)
    home_shape, office_shape = _shape_per_slot("household"), _shape_per_slot("office")

    sites: list[Site] = []
    k = 0
    for group in params.homes:
        for _ in range(group.count):
            load = np.repeat(factors[k], SLOTS_PER_DAY) * np.tile(home_shape, days) * group.daily_load_kwh
            sites.append(Site(f"home-{k + 1:02d}", "home", group.name, params.home_retail, group.profile,
                              load, per_kwp * group.pv_kwp, group.pv_kwp, group.battery_kwh, group.battery_kw))
            k += 1
    office_day = np.where(weekend, params.office_weekend_share, 1.0) * factors[k]
    office_load = np.repeat(office_day, SLOTS_PER_DAY) * np.tile(office_shape, days) * params.office_daily_load_kwh
    sites.append(Site("office", "office", "office", params.office_retail, "economy", office_load,
                      per_kwp * params.office_pv_kwp, params.office_pv_kwp))
    office = len(sites) - 1

    cars = []
    for home, site in enumerate(sites[:-1]):
        group = next(g for g in params.homes if g.name == site.group)
        if group.phev:
            cars.append(_car(params, rng, f"phev-{site.id.removeprefix('home-')}", home, office, days, weekend))
    start = datetime(year, month, params.first_day, tzinfo=ZoneInfo(TZ))
    return CommunityDays(params, start, days, tuple(sites), tuple(cars), office, weekend)


def _car(params: CommunityParams, rng: np.random.Generator, car_id: str, home: int, office: int, days: int,
         weekend: np.ndarray) -> Car:
    """Weekdays: home -> office (one slot's drive) -> home; weekends: one trip out and back (no charger there)."""
    T = days * SLOTS_PER_DAY
    loc = np.full(T, home, dtype=np.int64)
    drive = np.zeros(T)
    need = np.zeros(T)
    per_km = params.phev_kwh_per_km
    for d in range(days):
        base = d * SLOTS_PER_DAY
        if weekend[d]:
            out, back = (base + round(h * 2) for h in params.weekend_out_hours)
            legs = [(out, back, params.weekend_trip_km * per_km)]
        else:
            leave = base + round(params.leave_home_hour * 2) + int(rng.integers(0, params.trip_jitter_slots + 1))
            ret = base + round(params.leave_office_hour * 2) + int(rng.integers(0, params.trip_jitter_slots + 1))
            legs = [(leave, leave + 1, params.trip_kwh), (ret, ret + 1, params.trip_kwh)]
            loc[leave + 1:ret] = office
        for away_from, back_at, kwh in legs:
            loc[away_from:back_at] = AWAY
            drive[back_at - 1] += kwh
            need[away_from] = min(params.phev_battery_kwh, kwh + params.phev_reserve_kwh)
    return Car(car_id, home, loc, drive, need)
