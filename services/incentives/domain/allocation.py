"""The allocation problem of one round and its result: which user gets which offer (or none).

A multiple-choice knapsack with two budgets: at most one offer per user, the expected cost (acceptance
probability x face value) within the expected budget, and the face value of every offer sent within the
worst-case guard. The result checks itself, so no solver can hand back an allocation that breaks a budget.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NONE = -1


@dataclass(frozen=True)
class AllocationProblem:
    """``value[u, o]``: expected goal units if user ``u`` is sent offer ``o`` (acceptance x effect);
    ``probability[u, o]``: acceptance probability; ``face_yen[o]``: what a redeemed offer costs;
    ``allowed[u, o]``: whether the rules let ``o`` go to ``u`` at all."""

    value: np.ndarray
    probability: np.ndarray
    face_yen: np.ndarray
    allowed: np.ndarray
    budget_expected_yen: float
    budget_worst_yen: float

    def __post_init__(self) -> None:
        n, k = self.value.shape
        if self.probability.shape != (n, k) or self.allowed.shape != (n, k) or self.face_yen.shape != (k,):
            raise ValueError("allocation problem: value, probability, allowed are [users, offers]; face_yen [offers]")
        if (self.face_yen <= 0).any():
            raise ValueError("face_yen: every offer must cost something when redeemed")
        if not np.isfinite(self.value).all() or (self.value < 0).any():
            raise ValueError("value: finite and not negative")
        if ((self.probability < 0) | (self.probability > 1)).any():
            raise ValueError("probability: within [0, 1]")
        if self.budget_expected_yen < 0 or self.budget_worst_yen < 0:
            raise ValueError("budgets: not negative")

    @property
    def n_users(self) -> int:
        return int(self.value.shape[0])

    @property
    def n_offers(self) -> int:
        return int(self.value.shape[1])

    @property
    def expected_cost(self) -> np.ndarray:
        return np.asarray(self.probability * self.face_yen[None, :])


@dataclass(frozen=True)
class Allocation:
    choice: np.ndarray  # [users] offer index or NONE
    objective: float    # expected goal units
    bound: float        # upper bound on any allocation's objective (LP or CP-SAT bound)
    expected_cost_yen: float
    worst_case_cost_yen: float
    method: str
    seconds: float
    multipliers: tuple[float, float] = (0.0, 0.0)  # yen prices of the two budgets, where known

    @property
    def gap(self) -> float:
        """Relative distance to the bound (0 = proven optimal)."""
        if self.bound <= 0:
            return 0.0
        return max(self.bound - self.objective, 0.0) / self.bound

    @property
    def chosen(self) -> np.ndarray:
        return np.flatnonzero(self.choice != NONE)

    def check(self, problem: AllocationProblem, tol: float = 1e-6) -> None:
        """Raise if the allocation breaks a budget, gives a forbidden offer or misstates its totals."""
        users = self.chosen
        offers = self.choice[users]
        if not problem.allowed[users, offers].all():
            raise AssertionError("allocation gives an offer the rules forbid")
        expected = float(problem.expected_cost[users, offers].sum())
        worst = float(problem.face_yen[offers].sum())
        if expected > problem.budget_expected_yen * (1 + tol) + tol:
            raise AssertionError(f"expected cost {expected:.2f} over budget {problem.budget_expected_yen:.2f}")
        if worst > problem.budget_worst_yen + tol:
            raise AssertionError(f"worst-case cost {worst:.0f} over guard {problem.budget_worst_yen:.0f}")
        value = float(problem.value[users, offers].sum())
        if abs(value - self.objective) > 1e-6 * max(1.0, value):
            raise AssertionError("objective does not match the chosen pairs")


def totals(problem: AllocationProblem, choice: np.ndarray) -> tuple[float, float, float]:
    """(value, expected cost, worst-case cost) of a choice vector."""
    users = np.flatnonzero(choice != NONE)
    offers = choice[users]
    return (float(problem.value[users, offers].sum()), float(problem.expected_cost[users, offers].sum()),
            float(problem.face_yen[offers].sum()))
