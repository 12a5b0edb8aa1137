"""What other charging policies do with the same fleet, chargers and limits, slot by slot.

- ``uncontrolled``: plug in and charge at full power until the battery is full, chargers first come
  first served (what a car park without a controller does);
- ``edf``: earliest departure first, each car only up to its departure's need;
- ``llf``: least laxity first (slots left minus slots of charging still needed), up to the need;
- ``greedy``: cars in order of arrival each take their cheapest slots (PV priced while the site still
  has surplus) until their need is met, within what earlier cars left.

All obey one car per charger and the site limits; local PV covers charging first wherever it is there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from services.charging.domain.fleet import NO_SITE, Fleet

if TYPE_CHECKING:
    from services.charging.domain.planner import Plan


@dataclass(frozen=True)
class Outcome:
    """A policy's result in the terms the comparison reports."""

    name: str
    charge_wh: np.ndarray   # (cars, horizon)
    site_load_wh: np.ndarray  # (sites, horizon)
    pv_used_wh: np.ndarray  # (sites, horizon)
    unmet_departures: int
    shortfall_wh: int

    def renewable_share(self) -> float:
        total = float(self.site_load_wh.sum())
        return float(self.pv_used_wh.sum()) / total if total else 0.0

    def cost_yen(self, fleet: Fleet) -> float:
        grid = self.site_load_wh - self.pv_used_wh
        sen_wh = (self.pv_used_wh * fleet.pv_price()).sum() + (grid * fleet.prices.buy_sen[None, :]).sum()
        return float(sen_wh) / 1e5

    def peak_kw(self) -> float:
        return float((self.site_load_wh - self.pv_used_wh).max(initial=0)) / 500.0


@dataclass(frozen=True)
class _Stays:
    """Per (car, slot): the stay's departure slot and the charge it needs (Wh), where the car is plugged."""

    depart: np.ndarray
    need: np.ndarray
    arrive: np.ndarray


def _stays(fleet: Fleet) -> _Stays:
    V, T = len(fleet.vehicles), fleet.horizon
    depart = np.full((V, T), T, dtype=np.int64)
    need = np.zeros((V, T), dtype=np.int64)
    arrive = np.zeros((V, T), dtype=np.int64)
    for i, v in enumerate(fleet.vehicles):
        for st in v.stays:
            sl = slice(st.arrive, min(st.depart, T))
            depart[i, sl], need[i, sl], arrive[i, sl] = st.depart, st.need_wh, st.arrive
    return _Stays(depart, need, arrive)


def _trips(fleet: Fleet) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """Energy each car's trips take at each slot's start, and every departure (car, slot, need) to check."""
    V, T = len(fleet.vehicles), fleet.horizon
    use = np.zeros((V, T + 1), dtype=np.int64)
    checks: list[tuple[int, int, int]] = []
    for i, v in enumerate(fleet.vehicles):
        for k, st in enumerate(v.stays):
            if st.depart >= T:
                continue
            arrival = min(v.stays[k + 1].arrive if k + 1 < len(v.stays) else T, T)
            use[i, arrival] += st.trip_wh
            checks.append((i, st.depart, st.need_wh))
    return use, checks


# A policy's priority of the cars at a site in slot t (lower first): (t, cars here, Wh left, rates, stays) -> key.
OrderKey = Callable[[int, np.ndarray, np.ndarray, np.ndarray, _Stays], np.ndarray]


def _simulate(fleet: Fleet, name: str, order_key: OrderKey) -> Outcome:
    V, T = len(fleet.vehicles), fleet.horizon
    loc = fleet.presence()
    rate = fleet.rate_wh(loc)
    stays = _stays(fleet)
    use, checks = _trips(fleet)
    battery = np.array([v.battery_wh for v in fleet.vehicles], dtype=np.int64)
    soc = np.array([v.soc_wh for v in fleet.vehicles], dtype=np.int64)
    charge = np.zeros((V, T), dtype=np.int64)
    soc_at = np.zeros((V, T + 1), dtype=np.int64)
    short_trip = 0
    for t in range(T):
        soc -= use[:, t]
        short_trip += int(np.clip(-soc, 0, None).sum())
        soc = np.maximum(soc, 0)
        soc_at[:, t] = soc
        for s, site in enumerate(fleet.sites):
            here = np.nonzero(loc[:, t] == s)[0]
            if not len(here):
                continue
            target = battery[here] if name == "uncontrolled" else np.minimum(stays.need[here, t], battery[here])
            left = target - soc[here]
            want = left > 0
            here, left = here[want], left[want]
            if not len(here):
                continue
            key = order_key(t, here, left, rate[here, t], stays)
            chosen = np.lexsort((here, key))[: site.chargers]
            cap = min(int(site.limit_wh[t]), site.chargers * int(site.charger_w) // 2)
            for k in chosen:
                e = int(min(rate[here[k], t], left[k], cap))
                charge[here[k], t] = e
                cap -= e
                if cap <= 0:
                    break
        soc += charge[:, t]
    soc_at[:, T] = soc - use[:, T]
    return _outcome(fleet, name, charge, soc_at, checks, short_trip + int(np.clip(-soc_at[:, T], 0, None).sum()))


def _outcome(fleet: Fleet, name: str, charge: np.ndarray, soc_at: np.ndarray, checks: list[tuple[int, int, int]],
             stranded: int) -> Outcome:
    S, T = len(fleet.sites), fleet.horizon
    loc = fleet.presence()
    load = np.zeros((S, T), dtype=np.int64)
    v, t = np.nonzero(charge)
    np.add.at(load, (loc[v, t], t), charge[v, t])
    pv = np.stack([s.pv_wh for s in fleet.sites]) if S else np.zeros((0, T))
    unmet, short = 0, stranded
    for car, d, need in checks:
        lack = need - int(soc_at[car, d])
        if lack > 0:
            unmet += 1
            short += lack
    return Outcome(name, charge, load, np.minimum(load, pv), unmet, short)


def uncontrolled(fleet: Fleet) -> Outcome:
    return _simulate(fleet, "uncontrolled", lambda t, here, left, rate, st: st.arrive[here, t])


def edf(fleet: Fleet) -> Outcome:
    return _simulate(fleet, "edf", lambda t, here, left, rate, st: st.depart[here, t])


def llf(fleet: Fleet) -> Outcome:
    def laxity(t: int, here: np.ndarray, left: np.ndarray, rate: np.ndarray, st: _Stays) -> np.ndarray:
        slack: np.ndarray = (st.depart[here, t] - t) - -(-left // np.maximum(rate, 1))
        return slack

    return _simulate(fleet, "llf", laxity)


def greedy(fleet: Fleet) -> Outcome:
    """Each stay, in order of arrival, books its cheapest slots with what is left."""
    V, T = len(fleet.vehicles), fleet.horizon
    loc = fleet.presence()
    rate = fleet.rate_wh(loc)
    use, checks = _trips(fleet)
    cap = np.stack([np.minimum(s.limit_wh, s.chargers * s.charger_w // 2) for s in fleet.sites]).astype(np.int64)
    free = np.array([[s.chargers] * T for s in fleet.sites], dtype=np.int64)
    pv_left = np.stack([s.pv_wh for s in fleet.sites]).astype(np.int64)
    pv_price, buy = fleet.pv_price(), fleet.prices.buy_sen
    charge = np.zeros((V, T), dtype=np.int64)
    stays = sorted((st.arrive, i, k) for i, v in enumerate(fleet.vehicles) for k, st in enumerate(v.stays)
                   if st.site != NO_SITE and fleet.sites[st.site].chargers > 0 and st.arrive < T)
    for _, i, k in stays:
        veh, st = fleet.vehicles[i], fleet.vehicles[i].stays[k]
        soc = veh.soc_wh + int(charge[i, :st.arrive].sum()) - int(use[i, :st.arrive + 1].sum())
        left = min(st.need_wh, veh.battery_wh) - soc
        slots = np.arange(st.arrive, min(st.depart, T))
        s = st.site
        price = np.where(pv_left[s, slots] > 0, pv_price[s, slots], buy[slots])
        for t in slots[np.argsort(price, kind="stable")]:
            if left <= 0:
                break
            if free[s, t] <= 0 or cap[s, t] <= 0:
                continue
            e = int(min(rate[i, t], left, cap[s, t]))
            charge[i, t] = e
            free[s, t] -= 1
            cap[s, t] -= e
            pv_left[s, t] -= min(pv_left[s, t], e)
            left -= e
    soc_at = np.concatenate([np.array([v.soc_wh for v in fleet.vehicles])[:, None], charge], axis=1).cumsum(axis=1)
    soc_at -= use.cumsum(axis=1)
    stranded = int(np.clip(-soc_at, 0, None).max(axis=1).sum())
    return _outcome(fleet, "greedy", charge, soc_at, checks, stranded)


BASELINES = {"uncontrolled": uncontrolled, "edf": edf, "llf": llf, "greedy": greedy}


def outcome_of(plan: Plan) -> Outcome:
    """Our plan in the comparison's terms."""
    f = plan.fleet
    V, T = len(f.vehicles), f.horizon
    charge = np.zeros((V, T), dtype=np.int64)
    np.add.at(charge, (plan.cells.v, plan.cells.t), plan.charge_wh)
    return Outcome("ours", charge, plan.site_slot(plan.charge_wh).astype(np.int64),
                   plan.site_slot(plan.pv_wh).astype(np.int64), plan.unmet_departures(),
                   int(plan.shortfall_wh.sum()))
