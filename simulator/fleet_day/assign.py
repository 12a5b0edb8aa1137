"""Which vehicle drives which duty, and what each does in every 30-minute block: CP-SAT over the day.

Per vehicle and block: on a duty, or at the depot plugged in (charging from PV surplus or the grid, feeding
back when V2G is allowed, or idle). Battery state of charge is tracked block by block: a duty's energy is
taken in its first block (so the battery never dips below the reserve while out), charging only where the
vehicle is at the depot, the day ends with at least the charge it began with (so the day can repeat).
The objective is lexicographic by weight: vehicles first, then the energy's cost with a bonus per kWh of
local PV absorbed (the charging planner's green weight) and V2G sales at the block's price.

Called once per domain alone and once with all duties; the joint run is started from the union of the
domains' own assignments, which is always feasible for it (the grid covers what PV does not), so joint never
needs more vehicles than the domains planned alone. Deterministic: a deterministic time limit, fixed seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from services.charging.domain.fleet import Weights
from simulator.fleet_day.demand import BLOCK_S, BLOCKS
from simulator.fleet_day.duties import Duty
from simulator.fleet_day.params import FleetDayParams

VEHICLE_WEIGHT = 10**11   # per vehicle: above any day's energy cost or bonus in Wh x sen/kWh


@dataclass(frozen=True)
class Assignment:
    vehicle_of: tuple[int, ...]      # per duty (input order): the vehicle (0..vehicles-1)
    vehicles: int                    # vehicles with at least one duty
    status: str                      # CP-SAT's status, or "union" when the joint run kept its starting point
    bound_vehicles: int              # CP-SAT's proven lower bound on the vehicles
    pv_wh: np.ndarray                # (vehicles, 48) the model's own energy plan (the charging planner redoes it)
    soc_wh: np.ndarray               # (vehicles, 49)


def _rate_wh(kw: float) -> int:
    return round(kw * 1000 * BLOCK_S / 3600)


def max_overlap(duties: Sequence[Duty]) -> int:
    """Duties out in the same block at most: a lower bound on the vehicles."""
    busy = np.zeros(BLOCKS, dtype=np.int64)
    for d in duties:
        busy[d.first_block:d.last_block + 1] += 1
    return int(busy.max(initial=0))


def first_fit(duties: Sequence[Duty]) -> tuple[int, ...]:
    """Each duty, by start, on the first vehicle free in its blocks (energy left aside): a starting point."""
    free_from: list[int] = []
    out = [0] * len(duties)
    for d in sorted(range(len(duties)), key=lambda k: (duties[k].first_block, duties[k].id)):
        v = next((k for k, f in enumerate(free_from) if f <= duties[d].first_block), len(free_from))
        if v == len(free_from):
            free_from.append(0)
        free_from[v] = duties[d].last_block + 1
        out[d] = v
    return tuple(out)


def assign(duties: Sequence[Duty], p: FleetDayParams, pv_surplus_wh: np.ndarray, buy_sen: np.ndarray,
           sell_sen: np.ndarray, hint: Sequence[int] | None = None, max_vehicles: int | None = None) -> Assignment:
    """Fewest vehicles that drive ``duties`` within their batteries, then the cheapest, greenest charging.

    Without ``max_vehicles`` the model offers the first-fit count plus two vehicles (batteries may need
    more than the blocks do), and twice as many if that proves too few."""
    if not duties:
        return Assignment((), 0, "empty", 0, np.zeros((0, BLOCKS)), np.zeros((0, BLOCKS + 1)))
    if max_vehicles is not None:
        return _assign(duties, p, pv_surplus_wh, buy_sen, sell_sen, hint, max_vehicles, hint is not None)
    start = first_fit(duties)
    nv = len(set(start)) + 2
    while True:
        try:
            return _assign(duties, p, pv_surplus_wh, buy_sen, sell_sen, hint or start, min(nv, len(duties)), False)
        except RuntimeError:
            if nv >= len(duties):
                raise
            nv *= 2


def _assign(duties: Sequence[Duty], p: FleetDayParams, pv_surplus_wh: np.ndarray, buy_sen: np.ndarray,
            sell_sen: np.ndarray, hint: Sequence[int] | None, nv: int, hint_is_feasible: bool) -> Assignment:
    """One CP-SAT run over ``nv`` vehicles; a ``hint_is_feasible`` is kept when the search does no better."""
    n_d = len(duties)
    rate, dis_rate = _rate_wh(p.charger_kw), _rate_wh(p.discharge_kw) if p.v2g else 0
    battery, reserve = round(p.battery_kwh * 1000), round(p.reserve_kwh * 1000)
    soc0 = round(p.start_soc * battery)
    wh = [d.wh(p.wh_per_km) for d in duties]
    m = cp_model.CpModel()
    x = {(d, v): m.new_bool_var(f"x{d}_{v}") for d in range(n_d) for v in range(nv)}
    use = [m.new_bool_var(f"use{v}") for v in range(nv)]
    for d in range(n_d):
        m.add_exactly_one(x[d, v] for v in range(nv))
    for v in range(nv):
        for d in range(n_d):
            m.add_implication(x[d, v], use[v])
        if v + 1 < nv:
            m.add(use[v] >= use[v + 1])
    covering = [[d for d, duty in enumerate(duties) if duty.first_block <= b <= duty.last_block] for b in range(BLOCKS)]
    starting = [[d for d, duty in enumerate(duties) if duty.first_block == b] for b in range(BLOCKS)]
    pv_price = sell_sen
    green = Weights().green_sen
    cost_terms = []
    pv_vars: dict[tuple[int, int], cp_model.IntVar] = {}
    soc_vars: dict[tuple[int, int], cp_model.IntVar] = {}
    for v in range(nv):
        soc = m.new_constant(soc0)
        soc_vars[v, 0] = soc
        for b in range(BLOCKS):
            busy = sum(x[d, v] for d in covering[b])
            m.add(busy <= 1)
            # At the depot and in use: charge (PV first where there is surplus) or feed back. Feeding back pays
            # the green bonus back, as in the charging planner, so charging and feeding at once never pays.
            charge = m.new_int_var(0, rate, f"c{v}_{b}")
            m.add(charge + rate * busy <= rate * use[v])
            pv: cp_model.IntVar | int = 0
            if pv_surplus_wh[b] > 0:
                pv = m.new_int_var(0, min(rate, int(pv_surplus_wh[b])), f"pv{v}_{b}")
                m.add(pv <= charge)
                pv_vars[v, b] = pv
            out = sum(wh[d] * x[d, v] for d in starting[b])
            new = soc + charge - out
            cost_terms.append(int(buy_sen[b]) * charge + (int(pv_price[b]) - int(buy_sen[b]) - green) * pv)
            if dis_rate:
                dis = m.new_int_var(0, dis_rate, f"d{v}_{b}")
                m.add(dis + dis_rate * busy <= dis_rate * use[v])
                cost_terms.append((green - int(sell_sen[b])) * dis)
                new = new - dis
            nxt = m.new_int_var(reserve, battery, f"s{v}_{b + 1}")
            m.add(nxt == new)
            soc_vars[v, b + 1] = nxt
            soc = nxt
        m.add(soc >= soc0)
    for b in range(BLOCKS):
        if pv_surplus_wh[b] > 0:
            m.add(sum(pv_vars[v, b] for v in range(nv)) <= int(pv_surplus_wh[b]))
    m.minimize(VEHICLE_WEIGHT * sum(use) + sum(cost_terms))
    if hint is not None and max(hint) < nv:
        for d in range(n_d):
            for v in range(nv):
                m.add_hint(x[d, v], int(hint[d] == v))
        used = set(hint)
        for v in range(nv):
            m.add_hint(use[v], int(v in used))
    solver = cp_model.CpSolver()
    solver.parameters.max_deterministic_time = p.assign_s
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = p.seed % 2**31
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        if hint is None or not hint_is_feasible:
            raise RuntimeError("no assignment of the duties to vehicles found within the time limit")
        return _from_hint(hint, "union")
    vehicle_of = tuple(next(v for v in range(nv) if solver.boolean_value(x[d, v])) for d in range(n_d))
    used_v = sorted(set(vehicle_of))
    if hint is not None and hint_is_feasible and len(used_v) > len(set(hint)):
        return _from_hint(hint, "union")
    renumber = {v: k for k, v in enumerate(used_v)}
    pv_plan = np.array([[solver.value(pv_vars[v, b]) if (v, b) in pv_vars else 0 for b in range(BLOCKS)]
                        for v in used_v])
    soc_plan = np.array([[solver.value(soc_vars[v, b]) for b in range(BLOCKS + 1)] for v in used_v])
    bound = round(solver.best_objective_bound / VEHICLE_WEIGHT) if status == cp_model.FEASIBLE else len(used_v)
    return Assignment(tuple(renumber[v] for v in vehicle_of), len(used_v), solver.status_name(status),
                      max(bound, max_overlap(duties)), pv_plan, soc_plan)


def _from_hint(hint: Sequence[int], status: str) -> Assignment:
    used = sorted(set(hint))
    renumber = {v: k for k, v in enumerate(used)}
    n = len(used)
    return Assignment(tuple(renumber[v] for v in hint), n, status, 0, np.zeros((n, BLOCKS)),
                      np.zeros((n, BLOCKS + 1)))
