"""Small named fleets for the planner's tests (Wh per slot, sen/kWh)."""

from __future__ import annotations

import numpy as np

from services.charging.domain.fleet import Fleet, Mode, Preference, Prices, Site, Stay, Vehicle

T = 16


def site(chargers: int = 1, charger_w: int = 7000, pv: list[int] | None = None, limit_wh: int = 100_000,
         horizon: int = T, site_id: str = "office") -> Site:
    pv_arr = np.zeros(horizon, dtype=np.int64) if pv is None else np.array(pv + [0] * (horizon - len(pv)))
    return Site(site_id, chargers, charger_w, np.full(horizon, limit_wh), pv_arr.astype(np.int64),
                np.full(horizon, limit_wh))


def car(name: str, arrive: int, depart: int, need_wh: int, soc_wh: int = 10_000, battery_wh: int = 40_000,
        mode: Mode = Mode.DEPARTURE, preference: Preference = Preference.GREEN, site_index: int = 0,
        charge_w: int = 7000, trip_wh: int = 0, **extra) -> Vehicle:
    return Vehicle(name, battery_wh, soc_wh, charge_w, (Stay(site_index, arrive, depart, need_wh, trip_wh),),
                   mode=mode, preference=preference, **extra)


def fleet(sites: list[Site], cars: list[Vehicle], horizon: int = T, buy: int = 2600, sell: int = 700,
          buy_profile: list[int] | None = None) -> Fleet:
    prices = np.array(buy_profile, dtype=np.int64) if buy_profile else np.full(horizon, buy, dtype=np.int64)
    return Fleet(horizon, tuple(sites), tuple(cars), Prices(prices, np.full(horizon, sell, dtype=np.int64)))
