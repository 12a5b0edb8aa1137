"""Charging rates that deliver the most energy on a three-phase network, as one LP with cutting planes.

A three-phase site limits the magnitude of phasor sums: a line or transformer winding ``j`` carries
``I_j = sum_i A_ji r_i e^{i phi_i}`` (``r_i`` the charger's current in A, ``phi_i`` its phase angle) and
``|I_j| <= b_j``. That is a second-order cone. For any angle ``theta`` the projection
``sum_i A_ji r_i cos(phi_i - theta) <= b_j`` is implied by it, so a few such cuts per constraint give a
polyhedral relaxation (an LP, solved with GLOP from sparse arrays). After each solve the rows whose exact
magnitude is exceeded get a cut at the angle of their phasor and the LP is solved again; what is left of
the violation is then removed by scaling each period's rates down by the smallest factor that makes every
constraint hold exactly. The last LP's value is an upper bound on what the exact cone problem can deliver.

Time is in periods; a plan may coarsen far periods into blocks (one rate per session and block) to stay
small. Sessions may start later than the plan's first period (the offline problem with perfect
information is the same model over the whole month with one-period blocks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from ortools.linear_solver.python import model_builder as mb
from ortools.linear_solver.python import model_builder_helper as mbh

CUT_STEP_DEG = 10.0  # first cuts this far apart within each constraint's arc (at most 0.4 % left to cut)
TOLERANCE = 1e-3  # relative violation at which cutting stops (the final scaling removes the rest)
SEED_ANGLES = 6  # cut angles per constraint handed to the next plan
SAFETY = 1e-9  # relative margin kept below each limit after scaling, against floating-point rounding


class LPError(RuntimeError):
    """GLOP did not find an optimum (the model always has the all-zero solution, so this is a solver fault)."""


@dataclass(frozen=True)
class PhaseNetwork:
    """The site's constraints: ``matrix`` (constraints x chargers), ``limits`` (A), ``phases_deg`` per charger."""

    matrix: np.ndarray
    limits: np.ndarray
    phases_deg: np.ndarray

    def __post_init__(self) -> None:
        m, n = np.shape(self.matrix)
        if np.shape(self.limits) != (m,) or np.shape(self.phases_deg) != (n,):
            raise ValueError("matrix must be constraints x chargers, limits one per constraint, phases one per charger")
        if np.any(np.asarray(self.limits) < 0):
            raise ValueError("limits must be non-negative")

    @property
    def phasors(self) -> np.ndarray:
        phasors: np.ndarray = np.exp(1j * np.deg2rad(np.asarray(self.phases_deg, dtype=float)))
        return phasors

    def magnitudes(self, rates: np.ndarray) -> np.ndarray:
        """Exact ``|I_j|`` for charger rates ``(chargers,)`` or ``(chargers, periods)``."""
        r = np.asarray(rates, dtype=float)
        phasor_rates = r * (self.phasors if r.ndim == 1 else self.phasors[:, None])
        magnitudes: np.ndarray = np.abs(np.asarray(self.matrix, dtype=float) @ phasor_rates)
        return magnitudes

    def feasible(self, rates: np.ndarray, tolerance: float = 1e-9) -> bool:
        mags = self.magnitudes(rates)
        limits = np.asarray(self.limits, dtype=float)
        bound = limits if mags.ndim == 1 else limits[:, None]
        return bool(np.all(mags <= bound * (1 + tolerance) + tolerance))

    def scale_to_fit(self, rates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each period's rates times the largest factor <= 1 that satisfies every constraint exactly."""
        r = np.atleast_2d(np.asarray(rates, dtype=float).T).T
        mags = self.magnitudes(r)
        limits = np.asarray(self.limits, dtype=float)[:, None] * (1 - SAFETY)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(mags > limits, limits / mags, 1.0)
        factor = ratio.min(axis=0) if len(ratio) else np.ones(r.shape[1])
        return r * factor, factor


@dataclass(frozen=True)
class Sessions:
    """Charging sessions as columns. Periods are relative to the plan's first period; ``end`` is exclusive.

    ``demand`` is in A x periods (what a rate of 1 A for one period delivers is 1), ``max_rate`` in A (the
    smaller of the charger's and the battery's limit).
    """

    charger: np.ndarray
    start: np.ndarray
    end: np.ndarray
    demand: np.ndarray
    max_rate: np.ndarray

    def __post_init__(self) -> None:
        k = len(self.charger)
        for name in ("start", "end", "demand", "max_rate"):
            if len(getattr(self, name)) != k:
                raise ValueError(f"{name} must have one entry per session")
        if np.any(np.asarray(self.end) <= np.asarray(self.start)):
            raise ValueError("end must be after start for every session")
        if np.any(np.asarray(self.demand) < 0) or np.any(np.asarray(self.max_rate) < 0):
            raise ValueError("demand and max_rate must be non-negative")

    def __len__(self) -> int:
        return len(self.charger)


def coarse_blocks(horizon: int, fine: int = 12,
                  steps: tuple[tuple[int, int], ...] = ((48, 3), (288, 12))) -> np.ndarray:
    """Block lengths covering ``horizon`` periods: single periods first, then coarser the farther out.

    ``steps`` are (up to period, block length) pairs; beyond the last, blocks of four times its length.
    """
    lengths: list[int] = []
    t = 0
    limits = [(fine, 1), *steps]
    while t < horizon:
        size = next((length for until, length in limits if t < until), 4 * limits[-1][1])
        size = min(size, horizon - t)
        lengths.append(size)
        t += size
    return np.asarray(lengths, dtype=int)


@dataclass
class Plan:
    """Rates per session and period (A), the energy they deliver and a bound on it (A x periods).

    ``bound`` is the last relaxation's value over the smallest period weight: an upper bound on the energy
    any schedule can deliver within the cone constraints (exact relaxation value when ``earlier_bonus=0``).
    """

    rates: np.ndarray
    delivered: float
    bound: float
    cut_rounds: int
    max_violation_before_scaling: float
    rows: int
    columns: int
    angles: dict[int, list[float]] = field(default_factory=dict)


def _availability(sessions: Sessions, lengths: np.ndarray) -> np.ndarray:
    """Periods each session is plugged in during each block, (sessions, blocks)."""
    edges = np.concatenate([[0], np.cumsum(lengths)])
    lo = np.maximum(edges[:-1][None, :], np.asarray(sessions.start)[:, None])
    hi = np.minimum(edges[1:][None, :], np.asarray(sessions.end)[:, None])
    periods: np.ndarray = np.clip(hi - lo, 0, None).astype(float)
    return periods


def plan_rates(network: PhaseNetwork, sessions: Sessions, lengths: np.ndarray, *, earlier_bonus: float = 1e-3,
               angles: dict[int, list[float]] | None = None, max_rounds: int = 12,
               tolerance: float = TOLERANCE, step_deg: float = CUT_STEP_DEG, by_departure: bool = False,
               time_limit_s: float | None = None) -> Plan:
    """Most energy delivered within demands, rates and the network's cone constraints.

    The objective weighs a period's energy by ``1 - earlier_bonus * t / horizon`` (earlier energy worth
    slightly more, so ties charge now and leave room for cars that have not arrived yet); with
    ``by_departure`` the delay is measured against each car's own departure (``t / end``), so among equal
    totals the cars leaving soonest charge first and the flexible demand stays for later; with
    ``earlier_bonus=0`` it is the energy itself. ``angles`` seeds the cuts per constraint (the angles a
    previous plan needed); the plan returns the angles it used so a rolling planner can pass them on.
    Cutting stops when no constraint is exceeded by more than ``tolerance`` (relative); the scaling that
    follows then gives up at most that share of a period's energy. The first cuts are ``step_deg`` apart:
    with ``1 / cos(step_deg / 2) - 1 <= tolerance`` the first solve is already within the tolerance (more
    rows, one solve), with a wider step the model is smaller and cuts are added where needed.
    """
    lengths = np.asarray(lengths, dtype=int)
    k, nblocks = len(sessions), len(lengths)
    horizon = int(lengths.sum())
    avail = _availability(sessions, lengths)
    cols_s, cols_b = np.nonzero(avail > 0)
    col_avail = avail[cols_s, cols_b]
    ncols = len(cols_s)
    empty = Plan(np.zeros((k, horizon)), 0.0, 0.0, 0, 0.0, 0, 0, dict(angles or {}))
    if ncols == 0:
        return empty
    charger = np.asarray(sessions.charger, dtype=int)
    max_rate = np.asarray(sessions.max_rate, dtype=float)
    demand = np.asarray(sessions.demand, dtype=float)
    upper = np.minimum(max_rate[cols_s], demand[cols_s] / col_avail)
    mid = (np.concatenate([[0], np.cumsum(lengths)])[:-1] + lengths / 2.0)
    if by_departure:  # a delay costs more the sooner the car leaves: the rigid demands are charged first
        span = np.maximum(np.asarray(sessions.end, dtype=float)[cols_s], 1.0)
        weight = 1.0 - earlier_bonus * np.minimum(mid[cols_b] / span, 1.0)
    else:
        weight = 1.0 - earlier_bonus * mid[cols_b] / max(horizon, 1)
    objective = weight * col_avail

    matrix = np.asarray(network.matrix, dtype=float)
    limits = np.asarray(network.limits, dtype=float)
    phase = np.deg2rad(np.asarray(network.phases_deg, dtype=float))
    coef = matrix[:, charger[cols_s]]  # (constraints, columns)
    # A constraint can bind in a block only if its charging sessions at full rate could exceed its limit.
    worst = np.zeros((len(limits), nblocks))
    np.add.at(worst.T, cols_b, (np.abs(coef) * upper[None, :]).T)
    binding = worst > limits[:, None] * (1 + TOLERANCE)
    used = {j: list(v) for j, v in (angles or {}).items()}
    base = initial_angles(network, step_deg)
    seeds = [(j, b, theta) for j, b in zip(*np.nonzero(binding), strict=True)
             for theta in (*base[j], *used.get(int(j), []))]
    cut_j = np.array([c[0] for c in seeds], dtype=int)
    cut_b = np.array([c[1] for c in seeds], dtype=int)
    cut_theta = np.array([c[2] for c in seeds], dtype=float)

    demand_rows = sp.csr_matrix((col_avail, (cols_s, np.arange(ncols))), shape=(k, ncols))
    order = np.argsort(cols_b, kind="stable")  # columns grouped by block, for the cut rows
    block_ptr = np.searchsorted(cols_b[order], np.arange(nblocks + 1))
    col_phase = phase[charger[cols_s]]
    rounds, worst_violation, value = 0, 0.0, 0.0
    x = np.zeros(ncols)
    while True:
        rows = _cut_rows(cut_j, cut_b, cut_theta, coef, col_phase, order, block_ptr, ncols)
        a = sp.vstack([demand_rows, rows]).tocsr()
        ub = np.concatenate([demand, limits[cut_j]])
        x, value = _solve(upper, objective, ub, a, time_limit_s)
        rounds += 1
        per_block = _block_rates(x, cols_s, cols_b, k, nblocks)
        phasor_load = _phasor_load(matrix, network.phasors, charger, per_block)  # (constraints, blocks)
        mags = np.abs(phasor_load)
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = np.where(limits[:, None] > 0, mags / limits[:, None] - 1, np.where(mags > 0, np.inf, -1))
        worst_violation = max(float(relative.max(initial=-1.0)), 0.0)
        vj, vb = np.nonzero(relative > tolerance)
        if not len(vj) or rounds >= max_rounds:
            break
        thetas = np.angle(phasor_load[vj, vb])
        cut_j, cut_b = np.concatenate([cut_j, vj]), np.concatenate([cut_b, vb])
        cut_theta = np.concatenate([cut_theta, thetas])
        for j, theta in zip(vj.tolist(), thetas.tolist(), strict=True):
            used.setdefault(j, []).append(theta)
    rates_blocks = _block_rates(x, cols_s, cols_b, k, nblocks)
    station_load = np.zeros((matrix.shape[1], nblocks))
    np.add.at(station_load, charger, rates_blocks)
    _, factor = network.scale_to_fit(station_load)
    rates_blocks = rates_blocks * factor[None, :]
    rates_blocks = np.minimum(rates_blocks, max_rate[:, None])
    per_period = np.repeat(rates_blocks, lengths, axis=1)
    period_avail = _availability(sessions, np.ones(horizon, dtype=int))
    per_period = per_period * (period_avail > 0)
    delivered = float((rates_blocks * avail).sum())
    bound = float(value) / float(min(weight.min(), 1.0))  # energy * min weight <= weighted value of any schedule
    return Plan(per_period, delivered, bound, rounds, worst_violation, a.shape[0], ncols,
                {j: v[-SEED_ANGLES:] for j, v in used.items()})


def initial_angles(network: PhaseNetwork, step_deg: float = CUT_STEP_DEG) -> list[np.ndarray]:
    """First cut angles per constraint, spread over the arc its chargers' phasors can point to.

    A constraint's load is a non-negative combination of its terms ``A_ji e^{i phi_i}``, so its angle stays
    within the arc those terms span: one cut is exact when they all point the same way (a single-phase
    feeder), and cuts ``step_deg`` apart inside a narrower arc leave at most ``1/cos(step/2) - 1`` to cut.
    """
    out = []
    matrix = np.asarray(network.matrix, dtype=float)
    phasors = network.phasors
    for row in matrix:
        terms = row[row != 0] * phasors[row != 0]
        if not len(terms):
            out.append(np.zeros(0))
            continue
        centre = np.angle(terms.sum()) if abs(terms.sum()) > 1e-9 else np.angle(terms[0])
        offsets = np.angle(terms * np.exp(-1j * centre))
        lo, hi = offsets.min(), offsets.max()
        if hi - lo >= np.pi - 1e-9:
            out.append(np.deg2rad(np.arange(0.0, 360.0, step_deg)))
            continue
        count = int(np.ceil(np.rad2deg(hi - lo) / step_deg)) + 1
        out.append(centre + (np.linspace(lo, hi, count) if count > 1 else np.array([lo])))
    return out


def _cut_rows(cut_j: np.ndarray, cut_b: np.ndarray, cut_theta: np.ndarray, coef: np.ndarray, col_phase: np.ndarray,
              order: np.ndarray, block_ptr: np.ndarray, ncols: int) -> sp.csr_matrix:
    """One row per cut (constraint j, block b, angle theta): sum A_ji cos(phi_i - theta) r_i over block b's columns."""
    if not len(cut_j):
        return sp.csr_matrix((0, ncols))
    counts = block_ptr[cut_b + 1] - block_ptr[cut_b]
    row = np.repeat(np.arange(len(cut_j)), counts)
    first = np.repeat(block_ptr[cut_b] - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    cols = order[first + np.arange(len(row))]
    values = coef[cut_j[row], cols] * np.cos(col_phase[cols] - cut_theta[row])
    keep = np.abs(values) > 1e-12
    return sp.csr_matrix((values[keep], (row[keep], cols[keep])), shape=(len(cut_j), ncols))


def _solve(upper: np.ndarray, objective: np.ndarray, row_ub: np.ndarray, a: sp.csr_matrix,
           time_limit_s: float | None) -> tuple[np.ndarray, float]:
    model = mb.Model()
    helper: Any = model.helper  # its generated stub misnames float arrays (numpy.float64[m, 1]); unchecked here
    helper.fill_model_from_sparse_data(np.zeros(len(upper)), upper.astype(float), objective.astype(float),
                                       np.full(len(row_ub), -np.inf), row_ub.astype(float), a)
    model.helper.set_maximize(True)
    solver = mbh.ModelSolverHelper("glop")
    if time_limit_s is not None:
        solver.set_time_limit_in_seconds(time_limit_s)
    solver.solve(model.helper)
    if solver.status() != mbh.SolveStatus.OPTIMAL:
        raise LPError(f"GLOP ended with {solver.status()}")
    x = np.clip(np.asarray(solver.variable_values(), dtype=float), 0.0, upper)
    return x, float(solver.objective_value())


def _block_rates(x: np.ndarray, cols_s: np.ndarray, cols_b: np.ndarray, k: int, nblocks: int) -> np.ndarray:
    out = np.zeros((k, nblocks))
    out[cols_s, cols_b] = x
    return out


def _phasor_load(matrix: np.ndarray, phasors: np.ndarray, charger: np.ndarray, rates: np.ndarray) -> np.ndarray:
    station = np.zeros((matrix.shape[1], rates.shape[1]), dtype=complex)
    np.add.at(station, charger, rates * phasors[charger][:, None])
    return matrix @ station
