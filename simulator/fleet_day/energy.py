"""The fleet's charging for a given assignment, by the charging service's own core, and the battery through
the day.

Each vehicle's day becomes the charging planner's input: a stay at the depot in every run of blocks it is
not out, the energy of the duties until the next stay as the trip after it, and a promised departure with
that trip plus the reserve. A last departure at midnight promises the charge the day began with, so the day
can repeat. ``smart``: the charging planner (PV first, cheapest and greenest slots, V2G where allowed);
otherwise the charging core's uncontrolled baseline (plug in, full power until full: the grid at whatever
time). The battery is then traced with each duty's energy spread over its blocks.

V2G: the planner's battery chain bounds what flows on to the next event, not what a slot's charge leaves in
the battery before the next slot's discharge takes it out, so a plan can overfill by one slot of discharge.
The planner is therefore given the battery less one slot of discharge (a derating that provably keeps the
real battery within its capacity), and the trace is checked against the real battery.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from services.charging.domain import baselines, planner
from services.charging.domain.fleet import NO_SITE, Fleet, Prices, Site, Stay, Vehicle
from simulator.fleet_day.demand import BLOCKS, Day
from simulator.fleet_day.duties import Duty
from simulator.fleet_day.params import FleetDayParams

DEPOT = 0


@dataclass(frozen=True)
class Energy:
    charge_wh: np.ndarray      # (vehicles, 48)
    pv_wh: np.ndarray          # (vehicles, 48) of the charge, from the depot's PV surplus
    discharge_wh: np.ndarray   # (vehicles, 48) fed back (V2G)
    soc_wh: np.ndarray         # (vehicles, 49) battery at each block boundary
    out_wh: np.ndarray         # (vehicles, 48) energy the duties drive with
    busy: np.ndarray           # (vehicles, 48) duty kind index per block: 0 at the depot, 1 rides, 2 parcels
    unmet_departures: int
    shortfall_wh: int
    problems: tuple[str, ...]  # the charging planner's own re-check (empty for a valid plan)


def _dis_rate(p: FleetDayParams) -> int:
    return round(p.discharge_kw * 500) if p.v2g else 0


def _vehicle_day(duties: list[Duty], p: FleetDayParams, vid: str, derate: int) -> Vehicle:
    battery, reserve = round(p.battery_kwh * 1000), round(p.reserve_kwh * 1000)
    soc0 = round(p.start_soc * battery)
    busy = np.zeros(BLOCKS, dtype=bool)
    for d in duties:
        if d.first_block == 0:
            raise ValueError(f"duty {d.id} starts in the first block: the day must begin at the depot")
        busy[d.first_block:d.last_block + 1] = True
    stays: list[Stay] = []
    b = 0
    while b < BLOCKS:
        if busy[b]:
            b += 1
            continue
        e = b
        while e < BLOCKS and not busy[e]:
            e += 1
        nxt = e
        while nxt < BLOCKS and busy[nxt]:
            nxt += 1
        trip = sum(d.wh(p.wh_per_km) for d in duties if e <= d.first_block < nxt)
        need = min(battery - derate, trip + reserve) if trip else (soc0 if e == BLOCKS else reserve)
        stays.append(Stay(DEPOT, b, e, need_wh=need, trip_wh=trip))
        b = e
    stays.append(Stay(NO_SITE, BLOCKS, BLOCKS + 1))
    return Vehicle(vid, battery - derate, soc0, round(p.charger_kw * 1000), tuple(stays), reserve_wh=reserve,
                   max_discharge_w=round(p.discharge_kw * 1000) if p.v2g else 0, v2g=p.v2g)


def charging_fleet(duties: Sequence[Duty], vehicle_of: Sequence[int], n_vehicles: int, p: FleetDayParams,
                   day: Day, derate: bool = True) -> Fleet:
    """The charging planner's problem: one depot with a charger per vehicle, horizon to midnight plus one.
    ``derate``: the battery less one slot of discharge (see the module docstring)."""
    per = [[d for d, v in zip(duties, vehicle_of, strict=True) if v == k] for k in range(n_vehicles)]
    less = _dis_rate(p) if derate else 0
    vehicles = tuple(_vehicle_day(sorted(ds, key=lambda d: d.start_s), p, f"ev-{k:02d}", less)
                     for k, ds in enumerate(per))
    rate = round(p.charger_kw * 500)
    horizon = BLOCKS + 1
    chargers = max(n_vehicles, 1)
    limit = np.full(horizon, chargers * rate, dtype=np.int64)
    site = Site("fleet-depot", chargers, round(p.charger_kw * 1000), limit,
                np.append(day.pv_surplus_wh, 0).astype(np.int64), limit.copy())
    prices = Prices(np.append(day.buy_sen, day.buy_sen[0]).astype(np.int64),
                    np.append(day.sell_sen, day.sell_sen[0]).astype(np.int64))
    return Fleet(horizon, (site,), vehicles, prices)


def plan_energy(duties: Sequence[Duty], vehicle_of: Sequence[int], n_vehicles: int, p: FleetDayParams, day: Day,
                smart: bool) -> Energy:
    fleet = charging_fleet(duties, vehicle_of, n_vehicles, p, day, derate=smart)
    V = n_vehicles
    charge = np.zeros((V, BLOCKS + 1), dtype=np.int64)
    pv = np.zeros((V, BLOCKS + 1), dtype=np.int64)
    dis = np.zeros((V, BLOCKS + 1), dtype=np.int64)
    if smart:
        result = planner.plan(fleet)
        c = result.cells
        np.add.at(charge, (c.v, c.t), result.charge_wh)
        np.add.at(pv, (c.v, c.t), result.pv_wh)
        np.add.at(dis, (c.v, c.t), result.discharge_wh)
        unmet, short = result.unmet_departures(), int(result.shortfall_wh.sum())
        problems = tuple(x for x in result.problems() if "battery" not in x)   # checked below on the real one
    else:
        outcome = baselines.uncontrolled(fleet)
        charge = outcome.charge_wh.astype(np.int64)
        load = outcome.site_load_wh[DEPOT]
        share = np.divide(outcome.pv_used_wh[DEPOT], load, out=np.zeros(len(load)), where=load > 0)
        pv = np.floor(charge * share[None, :]).astype(np.int64)
        unmet, short, problems = outcome.unmet_departures, outcome.shortfall_wh, ()
    out = np.zeros((V, BLOCKS), dtype=np.int64)
    busy = np.zeros((V, BLOCKS), dtype=np.int64)
    for d, v in zip(duties, vehicle_of, strict=True):
        n = d.last_block - d.first_block + 1
        wh = d.wh(p.wh_per_km)
        share_wh = np.full(n, wh // n, dtype=np.int64)
        share_wh[: wh % n] += 1
        out[v, d.first_block:d.last_block + 1] += share_wh
        busy[v, d.first_block:d.last_block + 1] = 1 if d.kind == "ride" else 2
    soc0 = round(p.start_soc * p.battery_kwh * 1000)
    flow = charge[:, :BLOCKS] - dis[:, :BLOCKS] - out
    soc = np.concatenate([np.full((V, 1), soc0, dtype=np.int64), soc0 + np.cumsum(flow, axis=1)], axis=1)
    if (soc < 0).any() or (soc > round(p.battery_kwh * 1000)).any():
        problems = (*problems, "a battery leaves 0..capacity")
    return Energy(charge[:, :BLOCKS], pv[:, :BLOCKS], dis[:, :BLOCKS], soc, out, busy, unmet, short, problems)
