"""Seeded synthetic fleets: commuters and shoppers around Ebina charging at shared car parks.

Used by the benchmark and the tests. Every number is a documented input of ``Scenario``; the PV shape is a
stylised clear-sky bell scaled by a per-day weather factor (the reports use the real weather year instead).
Cars have no home charger here, so all their energy comes through the shared chargers: that is what makes
one car per charger at a time a real constraint.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from services.charging.domain.fleet import Fleet, Prices, Site, Stay, Vehicle, Weights, kw_to_wh_per_slot

SLOTS_PER_DAY = 48


@dataclass(frozen=True)
class SiteSpec:
    id: str
    chargers: int
    charger_kw: float
    limit_kw: float
    pv_kwp: float
    base_load_kw: float
    share: float            # of the cars that go there each day
    stay_hours: tuple[float, float]


EBINA_SITES = (
    SiteSpec("office-park", 40, 6.0, 180.0, 400.0, 60.0, 0.45, (8.0, 10.0)),
    SiteSpec("lalaport-ebina", 25, 6.0, 120.0, 500.0, 150.0, 0.20, (2.0, 4.5)),
    SiteSpec("vinawalk", 20, 6.0, 100.0, 300.0, 90.0, 0.20, (2.0, 4.5)),
    SiteSpec("ebina-station-ev", 15, 20.0, 200.0, 60.0, 10.0, 0.15, (1.0, 3.0)),
)


@dataclass(frozen=True)
class Scenario:
    vehicles: int = 1000
    days: int = 2
    seed: int = 7
    sites: tuple[SiteSpec, ...] = EBINA_SITES
    weather: tuple[float, ...] = (0.9, 0.6)
    v2g_share: float = 0.1
    cheap_share: float = 0.2
    soft_fraction: float = 0.6


def pv_bell(kwp: float, weather: float) -> np.ndarray:
    """kWh per slot over a day: a sine bell from 06:00 to 18:00 peaking at 0.8 x kWp at noon."""
    mid = (np.arange(SLOTS_PER_DAY) + 0.5) / 2.0
    shape = np.clip(np.sin(np.pi * (mid - 6.0) / 12.0), 0.0, None)
    return kwp * 0.8 * weather * shape * 0.5


def day_prices() -> tuple[np.ndarray, np.ndarray]:
    """sen/kWh per slot of a day: buying is cheaper at midday (local PV in the market) and dearest at the
    evening peak; selling follows the same shape above the grid's buy-back."""
    hour = np.arange(SLOTS_PER_DAY) / 2.0
    buy = np.where(hour < 7, 2000, np.where(hour < 10, 2620, np.where(hour < 15, 1800,
                   np.where(hour < 21, 2900, 2300))))
    sell = np.where((hour >= 10) & (hour < 15), 900, np.where((hour >= 17) & (hour < 21), 1500, 700))
    return buy.astype(np.int64), sell.astype(np.int64)


def build(scn: Scenario = Scenario()) -> Fleet:
    rng = np.random.default_rng(scn.seed)
    T = scn.days * SLOTS_PER_DAY
    buy, sell = day_prices()
    sites = []
    for spec in scn.sites:
        pv = np.concatenate([pv_bell(spec.pv_kwp, scn.weather[d % len(scn.weather)]) for d in range(scn.days)])
        base = spec.base_load_kw * 0.5
        surplus = np.rint(np.clip(pv - base, 0, None) * 1000).astype(np.int64)
        limit = np.full(T, kw_to_wh_per_slot(spec.limit_kw), dtype=np.int64)
        sites.append(Site(spec.id, spec.chargers, int(spec.charger_kw * 1000), limit, surplus,
                          np.rint(limit * scn.soft_fraction).astype(np.int64)))
    shares = np.array([s.share for s in scn.sites])
    vehicles = [_vehicle(k, rng, scn, shares, T) for k in range(scn.vehicles)]
    return Fleet(T, tuple(sites), tuple(vehicles), Prices(np.tile(buy, scn.days), np.tile(sell, scn.days)),
                 Weights())


def _vehicle(k: int, rng: np.random.Generator, scn: Scenario, shares: np.ndarray, T: int) -> Vehicle:
    battery = int(rng.choice([40_000, 58_000, 77_000]))
    charge_w = int(rng.choice([6_000, 7_400, 11_000]))
    stays: list[Stay] = []
    trip_home = [int(rng.uniform(2_000, 6_000)) for _ in range(scn.days)]
    trip_out = [int(rng.uniform(2_000, 6_000)) for _ in range(scn.days)]
    reserve = int(0.1 * battery)
    home_arrive = 0
    for day in range(scn.days):
        site = int(rng.choice(len(scn.sites), p=shares / shares.sum()))
        spec = scn.sites[site]
        start = day * SLOTS_PER_DAY
        leave_home = start + int(rng.integers(13, 22)) if spec.share >= 0.4 else start + int(rng.integers(18, 30))
        length = max(2, round(rng.uniform(*spec.stay_hours) * 2))
        arrive = leave_home + 1
        depart = min(arrive + length, T)
        nxt = trip_out[day + 1] if day + 1 < scn.days else trip_out[0]
        stays.append(Stay(-1, home_arrive, leave_home, need_wh=reserve + trip_out[day], trip_wh=trip_out[day]))
        need = min(reserve + trip_home[day] + nxt, battery)
        stays.append(Stay(site, arrive, depart, need_wh=need, trip_wh=trip_home[day]))
        home_arrive = depart + 1
    stays.append(Stay(-1, home_arrive, T + 1))
    soc = int(battery * rng.uniform(0.25, 0.45)) + trip_out[0]
    soc = min(soc, battery)
    return Vehicle(f"ev-{k:04d}", battery, soc, charge_w, tuple(stays), reserve_wh=reserve,
                   max_discharge_w=charge_w if rng.random() < scn.v2g_share else 0,
                   v2g=False, preference=_preference(rng, scn))


def _preference(rng: np.random.Generator, scn: Scenario):
    from services.charging.domain.fleet import Preference

    return Preference.CHEAP if rng.random() < scn.cheap_share else Preference.GREEN
