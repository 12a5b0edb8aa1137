"""The allocations ours is measured against, under the same budgets: random and greedy (best ratio first).

Both read the same problem (values, acceptance, budgets) as the optimiser; only the choosing differs.
"""

from __future__ import annotations

import numpy as np

from services.incentives.domain.allocation import NONE, AllocationProblem


def _fill(problem: AllocationProblem, users: np.ndarray, offers: np.ndarray) -> np.ndarray:
    """Take pairs in the given order while the user is free and both budgets still allow it."""
    choice = np.full(problem.n_users, NONE, dtype=np.int64)
    cost = problem.expected_cost[users, offers]
    face = problem.face_yen[offers]
    spent_e = spent_w = 0.0
    for u, o, c, f in zip(users.tolist(), offers.tolist(), cost.tolist(), face.tolist(), strict=True):
        if choice[u] != NONE or spent_e + c > problem.budget_expected_yen or spent_w + f > problem.budget_worst_yen:
            continue
        choice[u] = o
        spent_e += c
        spent_w += f
    return choice


def greedy(problem: AllocationProblem) -> np.ndarray:
    """Best expected effect per expected yen first, one offer per user."""
    allowed = problem.allowed & (problem.value > 0)
    users, offers = np.nonzero(allowed)
    ratio = problem.value[users, offers] / np.maximum(problem.expected_cost[users, offers], 1e-12)
    order = np.lexsort((offers, users, -ratio))
    return _fill(problem, users[order], offers[order])


def random_allocation(problem: AllocationProblem, rng: np.random.Generator) -> np.ndarray:
    """Users in random order, each offered one of the offers that fit their trip, at random."""
    allowed = problem.allowed & (problem.value > 0)
    users = rng.permutation(np.flatnonzero(allowed.any(axis=1)))
    scores = rng.random(allowed.shape) * allowed
    return _fill(problem, users, scores[users].argmax(axis=1))
