"""Solve one round's allocation: price the budgets (a Lagrangian relaxation, which gives the LP bound), then
re-decide the users nearest the cut-off exactly with a MIP; the gap to the bound is always reported.

For prices (l1 per expected yen, l2 per yen of face value) every user independently takes the offer with
the best value - l1 x expected cost - l2 x face value, if that is positive. Each user's choice set is a
simplex, so the Lagrangian dual equals the LP relaxation: the bound is the LP bound. Bisection finds the
prices at which the budgets are just met (the worst-case guard is priced only when it binds). Then the
``repair_users`` users whose decision is closest to changing are freed and decided exactly by SCIP
(OR-Tools model builder) within the budget the others leave; in a small round (the usual 5-minute one)
that is every user, so the MIP decides the whole round and its proof of optimality stands. Pricing first
matters: on these knapsacks a MIP or CP-SAT alone keeps a loose bound for seconds beyond a few thousand
pairs, while the priced solution is within a fraction of a percent of the LP bound at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver.python import model_builder as mb

from services.incentives.domain.allocation import NONE, Allocation, AllocationProblem, totals

BUDGET_MARGIN = 1e-7


@dataclass(frozen=True)
class SolveParams:
    repair_users: int = 300          # users re-decided by the MIP after pricing (all of them in a small round)
    repair_time_s: float = 1.0
    bisection_steps: int = 40


def solve(problem: AllocationProblem, params: SolveParams = SolveParams()) -> Allocation:
    """The allocation of one round, its bound and how it was found; the result has checked itself."""
    t0 = time.perf_counter()
    candidates = _candidate_mask(problem)
    if not candidates.any():
        return Allocation(np.full(problem.n_users, NONE), 0.0, 0.0, 0.0, 0.0, "empty", time.perf_counter() - t0)
    choice, bound, multipliers, method = _solve_lagrangian(problem, candidates, params)
    value, expected, worst = totals(problem, choice)
    result = Allocation(choice=choice, objective=value, bound=max(bound, value), expected_cost_yen=expected,
                        worst_case_cost_yen=worst, method=method, seconds=time.perf_counter() - t0,
                        multipliers=multipliers)
    result.check(problem)
    return result


def _candidate_mask(problem: AllocationProblem) -> np.ndarray:
    """Pairs worth considering: allowed, of some value, and each affordable on its own."""
    return (problem.allowed & (problem.value > 0)
            & (problem.expected_cost <= problem.budget_expected_yen)
            & (problem.face_yen[None, :] <= problem.budget_worst_yen))


def _solve_mip(problem: AllocationProblem, candidates: np.ndarray, budget_expected: float, budget_worst: float,
               time_limit_s: float) -> tuple[np.ndarray, float, str]:
    """Exact MIP (SCIP through OR-Tools' model builder) over the candidate pairs: (choice, bound, method)."""
    users, offers = np.nonzero(candidates)
    choice = np.full(problem.n_users, NONE, dtype=np.int64)
    model = mb.Model()
    x = [model.new_bool_var(f"x{i}") for i in range(len(users))]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    for a, b in zip(starts, np.r_[starts[1:], len(users)], strict=True):
        if b - a > 1:
            model.add(mb.LinearExpr.sum(x[a:b]) <= 1)
    # A hair inside each budget, so the solver's feasibility tolerance can never spend past it.
    model.add(mb.LinearExpr.weighted_sum(x, problem.expected_cost[users, offers].tolist())
              <= budget_expected * (1 - BUDGET_MARGIN) - BUDGET_MARGIN)
    model.add(mb.LinearExpr.weighted_sum(x, problem.face_yen[offers].astype(float).tolist())
              <= budget_worst * (1 - BUDGET_MARGIN) - BUDGET_MARGIN)
    model.maximize(mb.LinearExpr.weighted_sum(x, problem.value[users, offers].tolist()))
    solver = mb.Solver("scip")
    solver.set_time_limit_in_seconds(time_limit_s)
    status = solver.solve(model)
    if status not in (mb.SolveStatus.OPTIMAL, mb.SolveStatus.FEASIBLE):
        return choice, np.inf, "mip:no-solution"
    taken = np.array([solver.value(v) > 0.5 for v in x], dtype=bool)
    choice[users[taken]] = offers[taken]
    bound = float(solver.best_objective_bound) * (1 + 1e-9) + 1e-9
    return choice, bound, "mip:" + ("optimal" if status == mb.SolveStatus.OPTIMAL else "feasible")


_Answer = tuple[np.ndarray, float, float, float, float]  # what _Priced.at answers


class _Priced:
    """The users' independent choices at budget prices (l1 per expected yen, l2 per face yen)."""

    def __init__(self, problem: AllocationProblem, candidates: np.ndarray):
        self.users = np.flatnonzero(candidates.any(axis=1))
        mask = candidates[self.users]
        self.value = np.where(mask, problem.value[self.users], -np.inf)
        self.expected = problem.expected_cost[self.users]
        self.face = np.broadcast_to(problem.face_yen.astype(float), self.value.shape)
        self.b1, self.b2 = float(problem.budget_expected_yen), float(problem.budget_worst_yen)
        self._rows = np.arange(len(self.users))

    def at(self, l1: float, l2: float) -> _Answer:
        """(choice per candidate user or NONE, dual bound, value, expected cost, worst-case cost)."""
        reduced = self.value - l1 * self.expected - l2 * self.face
        best = reduced.argmax(axis=1)
        gain = reduced[self._rows, best]
        take = gain > 0
        rows, offers = self._rows[take], best[take]
        dual = float(gain[take].sum()) + l1 * self.b1 + l2 * self.b2
        choice = np.where(take, best, NONE)
        return (choice, dual, float(self.value[rows, offers].sum()), float(self.expected[rows, offers].sum()),
                float(self.face[rows, offers].sum()))

    def max_price(self, which: str) -> float:
        finite = np.isfinite(self.value)
        weight = self.expected if which == "expected" else self.face
        ratio = np.where(finite & (weight > 0), self.value / np.maximum(weight, 1e-12), 0.0)
        return float(ratio.max()) * (1 + 1e-9) + 1e-12


def _bisect_l1(priced: _Priced, l2: float, hi: float, steps: int) -> tuple[float, float, _Answer]:
    """Smallest l1 (to bisection precision) whose choices fit the expected budget; best dual seen."""
    best_dual = np.inf
    at_zero = priced.at(0.0, l2)
    best_dual = min(best_dual, at_zero[1])
    if at_zero[3] <= priced.b1:
        return 0.0, best_dual, at_zero
    lo, feasible = 0.0, priced.at(hi, l2)
    best_dual = min(best_dual, feasible[1])
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        res = priced.at(mid, l2)
        best_dual = min(best_dual, res[1])
        if res[3] <= priced.b1:
            hi, feasible = mid, res
        else:
            lo = mid
        if hi - lo <= 1e-9 * max(hi, 1e-12):
            break
    return hi, best_dual, feasible


def _solve_lagrangian(problem: AllocationProblem, candidates: np.ndarray,
                      params: SolveParams) -> tuple[np.ndarray, float, tuple[float, float], str]:
    priced = _Priced(problem, candidates)
    hi1 = priced.max_price("expected")
    l1, bound, res = _bisect_l1(priced, 0.0, hi1, params.bisection_steps)
    l2 = 0.0
    if res[4] > priced.b2:  # the worst-case guard binds too: price it, re-fitting l1 at each step
        lo2, hi2 = 0.0, priced.max_price("face")
        best = None
        for _ in range(max(params.bisection_steps // 2, 10)):
            mid = 0.5 * (lo2 + hi2)
            l1_mid, dual, res_mid = _bisect_l1(priced, mid, hi1, params.bisection_steps // 2)
            bound = min(bound, dual)
            if res_mid[4] <= priced.b2:
                hi2, best, l1 = mid, res_mid, l1_mid
            else:
                lo2 = mid
            if hi2 - lo2 <= 1e-7 * max(hi2, 1e-12):
                break
        if best is None:
            l1, dual, best = _bisect_l1(priced, hi2, hi1, params.bisection_steps // 2)
            bound = min(bound, dual)
        res, l2 = best, hi2
    choice = np.full(problem.n_users, NONE, dtype=np.int64)
    choice[priced.users] = res[0]
    choice, exact_bound, method = _repair(problem, candidates, priced, choice, (l1, l2), params)
    return choice, min(bound, exact_bound), (l1, l2), method


def _repair(problem: AllocationProblem, candidates: np.ndarray, priced: _Priced, choice: np.ndarray,
            prices: tuple[float, float], params: SolveParams) -> tuple[np.ndarray, float, str]:
    """Re-decide exactly the users closest to the price cut-off, within the budget the others leave.

    When every candidate user fits (a small round) the MIP decides the whole round and its bound holds
    for the whole problem; otherwise the returned bound is infinite (the LP bound stands)."""
    l1, l2 = prices
    reduced = priced.value - l1 * priced.expected - l2 * priced.face
    ordered = np.sort(np.where(np.isfinite(reduced), reduced, -np.inf), axis=1)
    best, second = ordered[:, -1], np.maximum(ordered[:, -2] if ordered.shape[1] > 1 else -np.inf, 0.0)
    margin = np.where(best > 0, best - second, -best)  # how far each user is from changing their decision
    scale = np.abs(priced.value[np.isfinite(priced.value)]).max()
    margin = np.where(np.isfinite(margin), margin, np.inf) / max(scale, 1e-12)
    count = min(params.repair_users, len(priced.users))
    border = priced.users[np.argpartition(margin, count - 1)[:count]] if count else priced.users[:0]
    fixed = choice.copy()
    fixed[border] = NONE
    _, expected_used, worst_used = totals(problem, fixed)
    sub = np.zeros_like(candidates)
    sub[border] = candidates[border]
    left_expected = problem.budget_expected_yen - expected_used
    left_worst = problem.budget_worst_yen - worst_used
    sub &= (problem.expected_cost <= left_expected) & (problem.face_yen[None, :] <= left_worst)
    whole = count == len(priced.users)
    if not sub.any():
        return choice, np.inf, "lagrangian"
    sub_choice, sub_bound, status = _solve_mip(problem, sub, left_expected, left_worst, params.repair_time_s)
    repaired = fixed.copy()
    repaired[border] = sub_choice[border]
    method = status if whole else "lagrangian+" + status
    bound = sub_bound if whole else np.inf
    if totals(problem, repaired)[0] >= totals(problem, choice)[0]:
        return repaired, bound, method
    return choice, bound, method + "(priced kept)"
