"""Clear answers from a plan: what a promised departure lacks and when the car could leave with it, and
what an owner's override costs compared with the planner's default."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from services.charging.domain.fleet import NO_SITE, Fleet, Mode, Preference, kw_to_wh_per_slot
from services.charging.domain.planner import Plan, plan


@dataclass(frozen=True)
class Shortfall:
    """A departure no charging can cover: ``missing_wh`` short, and the first slot boundary at which the car
    could leave with its full need if it stayed plugged in (``None``: not within the horizon)."""

    vehicle: str
    depart: int
    need_wh: int
    missing_wh: int
    feasible_depart: int | None


def shortfalls(p: Plan) -> list[Shortfall]:
    out = []
    f = p.fleet
    for k in np.nonzero(p.shortfall_wh > 0)[0]:
        v, d = int(p.departures_v[k]), int(p.departures_t[k])
        veh = f.vehicles[v]
        stay = next(st for st in veh.stays if st.depart == d)
        out.append(Shortfall(veh.id, d, stay.need_wh, int(p.shortfall_wh[k]),
                             _feasible_depart(p, v, stay.site, d, int(p.shortfall_wh[k]))))
    return out


def _feasible_depart(p: Plan, v: int, site: int, depart: int, missing: int) -> int | None:
    """Staying on at the same site from ``depart``, with what the plan leaves free there."""
    f = p.fleet
    if site == NO_SITE or f.sites[site].chargers == 0:
        return None
    s = f.sites[site]
    busy = p.site_slot(((p.charge_wh + p.discharge_wh) > 0).astype(np.int64))[site]
    load = p.site_slot(p.charge_wh)[site]
    cap = np.minimum(s.limit_wh, s.chargers * kw_to_wh_per_slot(s.charger_w / 1000))
    rate = min(kw_to_wh_per_slot(f.vehicles[v].max_charge_w / 1000), kw_to_wh_per_slot(s.charger_w / 1000))
    got = 0
    for t in range(depart, f.horizon):
        if busy[t] < s.chargers:
            got += int(min(rate, cap[t] - load[t]))
        if got >= missing:
            return t + 1
    return None


def override_costs(fleet: Fleet, p: Plan) -> dict[str, int]:
    """Per car whose owner chose something other than the default (by departure, greenest): what its energy
    costs in this plan minus what it would cost under the default, in 1e-5 yen (Wh x sen/kWh)."""
    chosen = [i for i, v in enumerate(fleet.vehicles)
              if v.mode != Mode.DEPARTURE or v.preference != Preference.GREEN]
    if not chosen:
        return {}
    default = dataclasses.replace(fleet, vehicles=tuple(
        dataclasses.replace(v, mode=Mode.DEPARTURE, preference=Preference.GREEN) if i in set(chosen) else v
        for i, v in enumerate(fleet.vehicles)))
    now, before = p.energy_cost_sen_wh(), plan(default).energy_cost_sen_wh()
    return {fleet.vehicles[i].id: round(now[i] - before[i]) for i in chosen}


def soc_at(p: Plan, slot: int) -> dict[str, int]:
    """Each car's planned battery (Wh) at the start of ``slot``: the state a rolling re-plan starts from
    where no meter reading is newer."""
    return {v.id: int(p.soc_wh[i, slot]) for i, v in enumerate(p.fleet.vehicles)}
