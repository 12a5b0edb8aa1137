"""VRPTW ruin and recreate: removal is related and seeded, and improving never loses customers or cost."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from services.logistics.domain.check import check_routes
from services.logistics.domain.vrptw import VrptwSolution, route_cost
from services.logistics.domain.vrptw_improve import ImproveConfig, improve, relatedness_order, shaw_removal
from tests.unit.logistics.test_vrptw import brute_force, tiny


def one_route_each(problem) -> VrptwSolution:
    routes = tuple((c,) for c in range(1, problem.n_customers + 1))
    return VrptwSolution(routes=routes, cost=route_cost(problem, routes), unserved=(), status="solved")


def worst_plan(problem) -> VrptwSolution:
    """The costliest feasible plan of at most two routes (the same enumeration as the brute force)."""
    n, worst = problem.n_customers, None
    for perm in itertools.permutations(range(1, n + 1)):
        for cut in range(n + 1):
            routes = tuple(r for r in (perm[:cut], perm[cut:]) if r)
            verdict = check_routes(problem, routes)
            if verdict.feasible and (worst is None or verdict.cost > worst[0]):
                worst = (verdict.cost, routes)
    assert worst is not None
    return VrptwSolution(routes=worst[1], cost=worst[0], unserved=(), status="solved")


def test_relatedness_order_lists_every_customer_once_most_related_first():
    """Each row is a permutation of the customers (no depot) that starts with the customer itself."""
    problem = tiny(3, n=8)
    order = relatedness_order(problem)
    customers = list(range(1, 9))
    assert sorted(order[0]) == customers
    for c in customers:
        assert sorted(order[c]) == customers
        assert order[c][0] == c


def test_shaw_removal_takes_k_distinct_customers_the_same_way_for_a_seed():
    problem = tiny(3, n=8)
    order = relatedness_order(problem)
    first = shaw_removal(order, 5, 6.0, np.random.default_rng(11))
    assert len(first) == 5 and first <= set(range(1, 9))
    assert first == shaw_removal(order, 5, 6.0, np.random.default_rng(11))
    assert shaw_removal(order, 50, 6.0, np.random.default_rng(1)) == set(range(1, 9))


def test_greedy_shaw_removal_stays_among_the_nearest():
    """With a very high exponent every pick is the most related remaining customer of a removed one."""
    xy = np.array([[0, 0], [10, 0], [11, 0], [12, 0], [90, 0], [91, 0]])
    travel = np.rint(np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))).astype(np.int64)
    base = tiny(1, n=5)
    problem = type(base)(**{**base.__dict__, "travel": travel, "ready": np.zeros(6, np.int64),
                            "due": np.full(6, 1000), "demand": np.array([0, 1, 1, 1, 1, 1])})
    order = relatedness_order(problem)
    for seed in range(10):
        removed = shaw_removal(order, 2, 1e6, np.random.default_rng(seed))
        assert removed <= {1, 2, 3} or removed == {4, 5}


@pytest.mark.parametrize("seed", [2, 3, 6])
def test_improve_reaches_the_optimum_of_small_instances_from_their_worst_plan(seed):
    problem = tiny(seed)
    start = worst_plan(problem)
    assert start.cost > brute_force(problem)
    found = improve(problem, start, 1.0, ImproveConfig(removed=(2, 4), step_s=0.05, seed=seed))
    verdict = check_routes(problem, found.routes)
    assert verdict.feasible, verdict.violations
    assert found.unserved == ()
    assert verdict.cost == found.cost == brute_force(problem)


def test_improve_never_returns_a_worse_plan_than_its_start():
    """Even with no time to search, the start comes back unchanged; with time, no worse."""
    problem = tiny(4, n=6, vehicles=6)
    start = one_route_each(problem)
    assert check_routes(problem, start.routes).feasible
    assert improve(problem, start, 0.0).routes == start.routes
    found = improve(problem, start, 0.5, ImproveConfig(removed=(1, 3), step_s=0.05, temperature=0.5))
    assert found.cost <= start.cost and found.unserved == ()
    assert check_routes(problem, found.routes).feasible
