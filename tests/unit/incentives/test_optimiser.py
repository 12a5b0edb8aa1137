"""The allocation optimiser: within both budgets always, close to its bound, better than the baselines."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.incentives.domain.allocation import NONE, AllocationProblem, totals
from services.incentives.domain.baselines import greedy, random_allocation
from services.incentives.domain.optimiser import SolveParams, solve
from tests.unit.incentives.conftest import random_problem


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), budget=st.floats(0, 3_000), guard=st.floats(0, 6_000))
def test_never_exceeds_either_budget(seed: int, budget: float, guard: float) -> None:
    """Expected cost within the expected budget and face value within the guard, whatever the budgets."""
    problem = random_problem(seed, budget=budget, guard=guard)
    result = solve(problem)
    result.check(problem)
    assert result.expected_cost_yen <= budget + 1e-6
    assert result.worst_case_cost_yen <= guard + 1e-6
    assert result.objective <= result.bound + 1e-9


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_small_round_is_solved_to_optimality(seed: int) -> None:
    """A round small enough for the MIP whole is proven optimal (gap ~ 0), given the time to prove it."""
    problem = random_problem(seed)
    result = solve(problem, SolveParams(repair_time_s=20))
    assert result.method.startswith("mip:optimal")
    assert result.gap < 1e-3


def test_large_round_priced_then_repaired_is_near_its_lp_bound() -> None:
    """20,000 users x 6 offers: the Lagrangian route stays within 0.5 % of the LP bound."""
    problem = random_problem(4, n=20_000, k=6, budget=200_000, guard=700_000)
    result = solve(problem, SolveParams(repair_users=200))
    assert result.method.startswith("lagrangian")
    result.check(problem)
    assert result.gap < 0.005


@pytest.mark.parametrize("seed", [5, 6, 7, 8])
def test_beats_greedy_and_random_on_the_same_problem(seed: int) -> None:
    """Same values, same budgets: the optimiser's expected effect is at least greedy's and above random's."""
    problem = random_problem(seed, n=300, budget=2_000, guard=8_000)
    ours = solve(problem).objective
    assert ours >= totals(problem, greedy(problem))[0] - 1e-9
    assert ours > totals(problem, random_allocation(problem, np.random.default_rng(seed)))[0]


def test_forbidden_pairs_never_chosen() -> None:
    """An opted-out (all forbidden) user gets nothing even when they are the best value."""
    problem = random_problem(9)
    allowed = problem.allowed.copy()
    best_user = int(problem.value.max(axis=1).argmax())
    allowed[best_user] = False
    value = problem.value.copy()
    value[best_user] *= 100
    forbidden = AllocationProblem(value, problem.probability, problem.face_yen, allowed,
                                  problem.budget_expected_yen, problem.budget_worst_yen)
    assert solve(forbidden).choice[best_user] == NONE


def test_worst_case_guard_binds_when_acceptance_is_low() -> None:
    """With low acceptance the face value, not the expected cost, limits how many offers go out."""
    rng = np.random.default_rng(3)
    p = np.full((500, 2), 0.05)
    problem = AllocationProblem(p * rng.random((500, 2)), p, np.array([100, 200]), np.ones((500, 2), bool),
                                budget_expected_yen=10_000, budget_worst_yen=20_000)
    result = solve(problem)
    assert result.worst_case_cost_yen <= 20_000
    assert result.expected_cost_yen < 10_000 * 0.2  # the guard, not the expected budget, stopped it
