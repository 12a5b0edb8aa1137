"""From what the service knows (plans, forecasts, meters, chargers) to the planner's ``Fleet`` and back.

Slot ``k`` of the fleet starts at ``t0 + k x 30 min``; ``t0`` is the first slot the market still takes orders
for, so everything planned can still be bought. A car's charge is the one its owner last reported plus what
the chargers metered since.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from services.charging.domain.fleet import NO_SITE, Fleet, Mode, Preference, Prices, Site, Stay, Vehicle
from services.charging.settings import ChargingSettings
from shared.contracts.charging import EvPlanSubmitted
from shared.units import SLOT, kwh_to_wh, yen_to_sen


@dataclass(frozen=True)
class Frame:
    """A fleet plus what its indices mean."""

    fleet: Fleet
    t0: datetime
    chargers: dict[str, tuple[str, ...]]     # site id -> available charger ids, in booking order
    plans: tuple[EvPlanSubmitted, ...]       # in the fleet's vehicle order

    def slot(self, k: int) -> datetime:
        return self.t0 + k * SLOT


def _index(t0: datetime, moment: datetime, *, up: bool) -> int:
    k = (moment - t0) / SLOT
    return math.ceil(k - 1e-9) if up else math.floor(k + 1e-9)


def build_frame(settings: ChargingSettings, t0: datetime, plans: list[EvPlanSubmitted],
                delivered_wh: dict[str, int], pv_wh: dict[str, dict[datetime, int]],
                unavailable: set[str]) -> Frame:
    T = settings.horizon_slots
    tz = ZoneInfo(settings.timezone)
    hours = [(t0 + k * SLOT).astimezone(tz).hour for k in range(T)]
    buy = np.array([yen_to_sen(settings.buy_yen[h]) for h in hours], dtype=np.int64)
    sell = np.array([yen_to_sen(settings.sell_yen[h]) for h in hours], dtype=np.int64)
    sites, chargers, site_index = [], {}, {}
    for spec in settings.sites:
        ids = tuple(c for c in spec.chargers if c not in unavailable)
        limit = np.full(T, kwh_to_wh(spec.limit_kw) // 2, dtype=np.int64)
        soft = np.full(T, kwh_to_wh(spec.soft_kw) // 2 if spec.soft_kw is not None else kwh_to_wh(spec.limit_kw) // 2,
                       dtype=np.int64)
        forecast = pv_wh.get(spec.id, {})
        pv = np.array([forecast.get(t0 + k * SLOT, 0) for k in range(T)], dtype=np.int64)
        site_index[spec.id] = len(sites)
        chargers[spec.id] = ids
        sites.append(Site(spec.id, len(ids), int(spec.charger_kw * 1000), limit, pv, soft,
                          bidirectional=spec.bidirectional))
    vehicles, kept = [], []
    for plan in sorted(plans, key=lambda p: p.vehicle):
        vehicle = _vehicle(plan, t0, T, site_index, delivered_wh.get(plan.vehicle, 0))
        if vehicle is not None:
            vehicles.append(vehicle)
            kept.append(plan)
    return Frame(Fleet(T, tuple(sites), tuple(vehicles), Prices(buy, sell)), t0, chargers, tuple(kept))


def _vehicle(plan: EvPlanSubmitted, t0: datetime, T: int, site_index: dict[str, int], delivered: int
             ) -> Vehicle | None:
    battery = kwh_to_wh(plan.battery_kwh)
    stays: list[Stay] = []
    end = 0
    for stay in plan.stays:
        depart = _index(t0, stay.depart, up=False)
        if depart <= 0:
            continue                       # over before the planning window opens
        arrive = max(_index(t0, stay.arrive, up=True), end, 0)
        if arrive >= T or arrive >= depart:
            continue
        site = site_index.get(stay.site, NO_SITE) if stay.site else NO_SITE
        stays.append(Stay(site, arrive, depart, kwh_to_wh(stay.need_kwh), kwh_to_wh(stay.trip_kwh)))
        end = depart
    if not stays:
        return None
    soc = min(kwh_to_wh(plan.soc_kwh) + delivered, battery)
    return Vehicle(plan.vehicle, battery, soc, int(plan.max_charge_kw * 1000), tuple(stays),
                   reserve_wh=min(kwh_to_wh(plan.reserve_kwh), battery),
                   max_discharge_w=int(plan.max_discharge_kw * 1000), v2g=plan.v2g, mode=Mode(plan.mode),
                   preference=Preference(plan.preference))


def yen(sen_wh: float) -> Decimal:
    """1e-5 yen (Wh x sen/kWh) -> yen with 2 decimals."""
    return (Decimal(round(sen_wh)) / Decimal(100_000)).quantize(Decimal("0.01"))
