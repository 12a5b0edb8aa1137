"""Orchestra and Hard Rock as one linear programme over the whole period (OR-Tools model_builder, HiGHS).

Orchestra: one central optimiser with full information schedules every device of every site (home
batteries, the cars wherever they are plugged in, PV curtailment, energy sent between sites over the
grid's wires) to minimise what the community pays outside itself: grid energy at each site's tariff,
wheeling fees, minus the buy-back of exports. Every other platform's schedule is a feasible point of this
LP (same devices, same limits, same departures), so its optimum is a lower bound on their cost.

Hard Rock: the same LP with the couplings removed: no energy between sites, cars charge only in their home's
microgrid, and (by default) no feed-in to the grid, so surplus a site cannot store is curtailed. It then
separates into one independent optimum per site (individually optimal microgrids).

Variables are built as arrays and the model is filled from one sparse matrix (fast even for a month:
about 200,000 columns).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from ortools.linear_solver.python import model_builder as mb

from simulator.energy.community import AWAY, SLOT_H, CommunityDays
from simulator.energy.outcome import Outcome

SHORTFALL_YEN = 1000.0     # per kWh a departure lacks (the engine drives it): only where nothing else can
WEAR_YEN = 1e-4            # per kWh through a battery: breaks ties against pointless cycling


class CentralError(RuntimeError):
    """The LP did not reach an optimum."""


@dataclass(frozen=True)
class Coupling:
    """Which links between sites and the grid the platform allows."""

    between_sites: bool
    export: bool
    cars_away_from_home: bool


ORCHESTRA = Coupling(between_sites=True, export=True, cars_away_from_home=True)


def hard_rock(export: bool = False) -> Coupling:
    return Coupling(between_sites=False, export=export, cars_away_from_home=False)


class _Columns:
    """Allocates blocks of LP columns with bounds and costs."""

    def __init__(self) -> None:
        self.lb: list[np.ndarray] = []
        self.ub: list[np.ndarray] = []
        self.cost: list[np.ndarray] = []
        self.n = 0

    def add(self, shape: tuple[int, ...], lb, ub, cost=0.0) -> np.ndarray:
        size = int(np.prod(shape))
        idx = np.arange(self.n, self.n + size).reshape(shape)
        self.n += size
        self.lb.append(np.broadcast_to(np.asarray(lb, dtype=float), shape).reshape(-1))
        self.ub.append(np.broadcast_to(np.asarray(ub, dtype=float), shape).reshape(-1))
        self.cost.append(np.broadcast_to(np.asarray(cost, dtype=float), shape).reshape(-1))
        return idx


class _Rows:
    """Collects sparse rows (row, column, coefficient) with their bounds."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.n = 0

    def block(self, count: int, lo, hi) -> np.ndarray:
        idx = np.arange(self.n, self.n + count)
        self.n += count
        self.lo.append(np.broadcast_to(np.asarray(lo, dtype=float), (count,)).copy())
        self.hi.append(np.broadcast_to(np.asarray(hi, dtype=float), (count,)).copy())
        return idx

    def terms(self, rows: np.ndarray, cols: np.ndarray, coef: float | np.ndarray) -> None:
        rows, cols = np.asarray(rows).reshape(-1), np.asarray(cols).reshape(-1)
        self.r.append(rows)
        self.c.append(cols)
        self.v.append(np.broadcast_to(np.asarray(coef, dtype=float), rows.shape).reshape(-1))


def run_central(community: CommunityDays, coupling: Coupling = ORCHESTRA, name: str = "orchestra") -> Outcome:
    c, p = community, community.params
    S, V, T = len(c.sites), len(c.cars), c.horizon
    load, pv = c.load(), c.pv()
    tariff = c.tariffs()
    cap = np.array([s.battery_kwh for s in c.sites])
    bpow = np.array([s.battery_kw for s in c.sites]) * SLOT_H
    cols = _Columns()
    imp = cols.add((S, T), 0, np.inf, tariff[:, None])
    exp = cols.add((S, T), 0, np.inf if coupling.export else 0.0, -p.buyback)
    curt = cols.add((S, T), 0, pv)
    link = np.inf if coupling.between_sites else 0.0
    sent = cols.add((S, T), 0, link)
    recv = cols.add((S, T), 0, link, p.wheeling_fee)
    b_in = cols.add((S, T), 0, np.repeat(bpow[:, None], T, axis=1), WEAR_YEN)
    b_out = cols.add((S, T), 0, np.repeat(bpow[:, None], T, axis=1), WEAR_YEN)
    soc0 = cap * p.battery_soc0_pct / 100
    b_lb = np.zeros((S, T + 1))
    b_ub = np.repeat(cap[:, None], T + 1, axis=1)
    b_lb[:, 0] = b_ub[:, 0] = soc0
    b_soc = cols.add((S, T + 1), b_lb, b_ub)
    loc = np.stack([car.loc for car in c.cars]) if V else np.zeros((0, T), dtype=np.int64)
    home = np.array([car.home for car in c.cars], dtype=np.int64)
    plugged = loc != AWAY
    if not coupling.cars_away_from_home:
        plugged &= loc == home[:, None]
    rate = np.where(plugged, p.phev_charge_kw * SLOT_H, 0.0)
    drate = np.where(plugged, p.phev_discharge_kw * SLOT_H if p.v2g else 0.0, 0.0)
    c_in = cols.add((V, T), 0, rate, WEAR_YEN)
    c_out = cols.add((V, T), 0, drate, WEAR_YEN)
    c_lb = np.zeros((V, T + 1))
    c_ub = np.full((V, T + 1), p.phev_battery_kwh)
    c_lb[:, 0] = c_ub[:, 0] = p.phev_battery_kwh * p.phev_soc0_pct / 100
    c_soc = cols.add((V, T + 1), c_lb, c_ub)
    need = np.stack([car.need_kwh for car in c.cars]) if V else np.zeros((0, T))
    nv, nt = np.nonzero(need > 0)
    short = cols.add((len(nv),), 0, np.inf, SHORTFALL_YEN)

    rows = _Rows()
    # site balance: pv - curt + imp - exp + recv - sent + b_out - b_in + cars (out - in) = load
    bal = rows.block(S * T, (load - pv).reshape(-1), (load - pv).reshape(-1)).reshape(S, T)
    for block, sign in ((curt, -1), (imp, 1), (exp, -1), (recv, 1), (sent, -1), (b_out, 1), (b_in, -1)):
        rows.terms(bal, block, sign)
    vv, tt = np.nonzero(plugged)
    rows.terms(bal[loc[vv, tt], tt], c_out[vv, tt], 1)
    rows.terms(bal[loc[vv, tt], tt], c_in[vv, tt], -1)
    # what leaves sites over the wires arrives at other sites in the same slot
    pool = rows.block(T, 0, 0)
    rows.terms(np.repeat(pool[None, :], S, axis=0), sent, 1)
    rows.terms(np.repeat(pool[None, :], S, axis=0), recv, -1)
    # batteries: soc[t+1] - soc[t] - in + out = 0
    dyn = rows.block(S * T, 0, 0).reshape(S, T)
    rows.terms(dyn, b_soc[:, 1:], 1)
    rows.terms(dyn, b_soc[:, :-1], -1)
    rows.terms(dyn, b_in, -1)
    rows.terms(dyn, b_out, 1)
    # cars: soc[t+1] - soc[t] - in + out = -drive[t]
    drive = np.stack([car.drive_kwh for car in c.cars]) if V else np.zeros((0, T))
    cdyn = rows.block(V * T, -drive.reshape(-1), -drive.reshape(-1)).reshape(V, T)
    rows.terms(cdyn, c_soc[:, 1:], 1)
    rows.terms(cdyn, c_soc[:, :-1], -1)
    rows.terms(cdyn, c_in, -1)
    rows.terms(cdyn, c_out, 1)
    # departures: soc at the start of the departure slot + shortfall >= need (driver first)
    dep = rows.block(len(nv), need[nv, nt], np.inf)
    rows.terms(dep, c_soc[nv, nt], 1)
    rows.terms(dep, short, 1)

    x = _solve(cols, rows)
    out = Outcome.empty(name, c)
    out.import_kwh, out.export_kwh, out.curtailed_kwh = x[imp], x[exp], x[curt]
    out.sent_kwh, out.received_kwh = x[sent], x[recv]
    out.battery_in, out.battery_out, out.battery_soc = x[b_in], x[b_out], x[b_soc]
    out.car_in, out.car_out, out.car_soc = x[c_in], x[c_out], x[c_soc]
    np.add.at(out.petrol_kwh, nv, x[short])
    out.detail["lp_columns"] = cols.n
    out.detail["lp_rows"] = rows.n
    return out


def _solve(cols: _Columns, rows: _Rows) -> np.ndarray:
    a = sp.csr_matrix((np.concatenate(rows.v), (np.concatenate(rows.r), np.concatenate(rows.c))),
                      shape=(rows.n, cols.n))
    model = mb.Model()
    model.helper.fill_model_from_sparse_data(
        np.concatenate(cols.lb), np.concatenate(cols.ub), np.concatenate(cols.cost),
        np.concatenate(rows.lo), np.concatenate(rows.hi), a)
    engine = mb.Solver("HIGHS")
    engine.set_solver_specific_parameters("output_flag=false")
    status = engine.solve(model)
    if status != mb.SolveStatus.OPTIMAL:
        raise CentralError(f"the central LP ended with status {status}")
    helper = getattr(engine, "_Solver__solve_helper", None)
    if helper is not None and hasattr(helper, "variable_values"):
        values = np.asarray(helper.variable_values(), dtype=float)
        if len(values) == cols.n:
            return np.clip(values, 0, None)
    return np.clip(np.asarray(engine.values(model.get_variables()), dtype=float), 0, None)
