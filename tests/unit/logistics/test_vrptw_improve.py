"""VRPTW ruin and recreate: removal is related and seeded, and improving never loses customers or cost."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from services.logistics.domain.check import check_routes
from services.logistics.domain.vrptw import VrptwSolution, route_cost
from services.logistics.domain.vrptw_improve import (
    ImproveConfig,
    _Inserter,
    improve,
    nearest_order,
    relatedness_order,
    route_removal,
    shaw_removal,
    string_removal,
)
from tests.unit.logistics.test_vrptw import brute_force, tiny


def one_route_each(problem) -> VrptwSolution:
    routes = tuple((c,) for c in range(1, problem.n_customers + 1))
    return VrptwSolution(routes=routes, cost=route_cost(problem, routes), unserved=(), status="solved",
                         vehicles=tuple(range(len(routes))))


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
    return VrptwSolution(routes=worst[1], cost=worst[0], unserved=(), status="solved",
                         vehicles=tuple(range(len(worst[1]))))


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
    for polish in (False, True):
        config = ImproveConfig(removed=(1, 3), step_s=0.05, temperature=0.5, polish=polish)
        found = improve(problem, start, 0.5, config)
        assert found.cost <= start.cost and found.unserved == ()
        assert check_routes(problem, found.routes).feasible


def test_string_removal_cuts_consecutive_customers_from_distinct_routes():
    """Every removed set is, route by route, one run of consecutive customers, and comes back the same
    for the same seed."""
    problem = tiny(5, n=12, vehicles=4)
    routes = ((1, 2, 3, 4), (5, 6, 7), (8, 9, 10, 11, 12))
    near = nearest_order(problem)
    for seed in range(20):
        removed = string_removal(routes, near, 4.0, 3, np.random.default_rng(seed))
        assert removed and removed == string_removal(routes, near, 4.0, 3, np.random.default_rng(seed))
        for route in routes:
            at = [i for i, c in enumerate(route) if c in removed]
            assert at == list(range(at[0], at[0] + len(at))) if at else True
            assert len(at) <= 3


def test_route_removal_takes_one_whole_route():
    routes = ((1, 2, 3, 4), (5,), (6, 7))
    for seed in range(10):
        assert route_removal(routes, np.random.default_rng(seed)) in ({1, 2, 3, 4}, {5}, {6, 7})


def test_inserter_puts_customers_back_only_where_windows_and_capacity_allow():
    """Customers taken out of a feasible plan are put back into a plan the checker accepts, none lost."""
    problem = tiny(7, n=8, vehicles=4)
    inserter = _Inserter(problem)
    rng = np.random.default_rng(3)
    routes: list[list[int]] = []
    left = inserter.insert(routes, list(range(1, 9)), 0.0, rng)
    assert left == []
    verdict = check_routes(problem, [tuple(r) for r in routes])
    assert verdict.feasible, verdict.violations
    for seed in range(5):
        again = [list(r) for r in routes]
        removed = set(map(int, np.random.default_rng(seed).choice(np.arange(1, 9), 4, replace=False)))
        again = [[c for c in r if c not in removed] for r in again]
        assert inserter.insert(again, sorted(removed), 0.1, rng, open_routes=False) == []
        verdict = check_routes(problem, [tuple(r) for r in again if r])
        assert verdict.feasible, verdict.violations


def test_improve_serves_a_customer_its_start_left_out_when_it_fits():
    """A start that leaves a servable customer out (as when dropping is allowed) gets it back."""
    problem = tiny(2)
    full = worst_plan(problem)
    out = full.routes[0][0]
    routes = tuple(r for r in ((tuple(c for c in route if c != out)) for route in full.routes) if r)
    start = VrptwSolution(routes=routes, cost=route_cost(problem, routes), unserved=(out,), status="solved",
                          vehicles=tuple(range(len(routes))))
    found = improve(problem, start, 0.3, ImproveConfig(removed=(1, 2)))
    assert found.unserved == ()
    assert check_routes(problem, found.routes).feasible


def test_improve_reports_the_cost_of_its_routes_with_fixed_costs():
    """With a cost per vehicle used, the returned cost is route_cost of the returned routes, and a plan
    on fewer vehicles is found from one route per customer."""
    base = tiny(4, n=6, vehicles=6)
    problem = type(base)(**{**base.__dict__, "fixed_cost": 500})
    start = one_route_each(problem)
    found = improve(problem, start, 0.3, ImproveConfig(removed=(1, 3)))
    assert found.cost == route_cost(problem, found.routes) < start.cost
    assert len(found.routes) < len(start.routes)


def test_reorder_untangles_a_route_that_zigzags_along_a_line():
    """Customers on a line served out of order: or-opt puts them in order, which is optimal here."""
    xy = np.array([[0, 0], [10, 0], [20, 0], [30, 0], [40, 0], [50, 0]])
    travel = np.rint(np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))).astype(np.int64)
    base = tiny(1, n=5)
    problem = type(base)(**{**base.__dict__, "travel": travel, "ready": np.zeros(6, np.int64),
                            "due": np.full(6, 1000), "demand": np.array([0, 1, 1, 1, 1, 1])})
    bad = (3, 1, 5, 2, 4)
    better = _Inserter(problem).reorder(bad)
    assert sorted(better) == [1, 2, 3, 4, 5]
    assert route_cost(problem, (better,)) == 100 < route_cost(problem, (bad,))
    assert check_routes(problem, (better,)).feasible


def test_reorder_keeps_every_window_and_never_costs_more():
    """On random windowed routes a reordered route stays feasible, serves the same customers and costs
    no more; where windows force the order it is left as it is."""
    improved = 0
    for seed in range(30):
        problem = tiny(seed, n=7, vehicles=1)
        problem = type(problem)(**{**problem.__dict__, "capacity": 100})
        inserter = _Inserter(problem)
        for perm in itertools.islice(itertools.permutations(range(1, 8)), 0, 5040, 97):
            if not check_routes(problem, (perm,)).feasible:
                continue
            out = inserter.reorder(perm)
            assert sorted(out) == sorted(perm)
            assert check_routes(problem, (out,)).feasible
            assert route_cost(problem, (out,)) <= route_cost(problem, (perm,))
            improved += route_cost(problem, (out,)) < route_cost(problem, (perm,))
    assert improved > 0


def test_route_elimination_sheds_vehicles_and_keeps_windows():
    """From one route per customer, steps that only empty a route and refill the others merge routes:
    the plan ends with fewer of them, every customer served and every window kept."""
    problem = tiny(3, n=8, vehicles=8)
    problem = type(problem)(**{**problem.__dict__, "due": np.concatenate([[2000], np.full(8, 1500)]),
                               "capacity": 100})
    start = one_route_each(problem)
    out = improve(problem, start, 0.3, ImproveConfig(route_removal=1.0, reorder=0, seed=4))
    assert len(out.routes) < len(start.routes) and not out.unserved
    assert check_routes(problem, out.routes).feasible


def test_insert_opens_no_route_beyond_max_routes():
    problem = tiny(3, n=8, vehicles=8)
    routes = [[1]]
    left = _Inserter(problem).insert(routes, [2, 3, 4, 5, 6, 7, 8], 0.0, np.random.default_rng(0),
                                     open_routes=False, max_routes=1)
    assert len(routes) == 1 and set(left) | set(routes[0]) == set(range(1, 9))
