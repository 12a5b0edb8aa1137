"""Inter-route moves: every move scored as allowed gives a plan the checker accepts, at exactly the cost
change it was scored at; the search never loses a customer nor raises the cost."""

from __future__ import annotations

import numpy as np
import pytest

from services.logistics.domain.check import check_routes
from services.logistics.domain.vrptw import VrptwProblem, route_cost
from services.logistics.domain.vrptw_improve import _Inserter
from services.logistics.domain.vrptw_interroute import _NEVER, InterRoute, apply_move
from tests.unit.logistics.test_vrptw import tiny


def random_plan(problem: VrptwProblem, seed: int) -> list[list[int]]:
    """A feasible plan from greedy insertion in a random order."""
    rng = np.random.default_rng(seed)
    routes: list[list[int]] = []
    order = [int(c) for c in rng.permutation(np.arange(1, problem.n_customers + 1))]
    assert _Inserter(problem).insert(routes, order, 0.3, rng) == []
    return routes


def problems() -> list[VrptwProblem]:
    out = []
    for seed in range(12):
        base = tiny(seed, n=10, vehicles=6)
        out.append(base)
        out.append(type(base)(**{**base.__dict__, "fixed_cost": 300 if seed % 2 else 0, "capacity": 14}))
    return out


def apply(routes: list[list[int]], kind: int, ka: int, kb: int, ra: int, rb: int) -> list[list[int]]:
    """The search's own move (path indices ka, kb in routes ra, rb) on a copy of the plan."""
    new = [list(r) for r in routes]
    new[ra], new[rb] = apply_move(routes[ra], routes[rb], kind, ka, kb)
    return [r for r in new if r]


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_every_allowed_move_is_feasible_and_changes_the_cost_by_its_delta(kind):
    """Each scored move, applied by hand, passes the checker and costs what it was scored at; every move
    refused for windows or capacity is refused rightly (the checker rejects it)."""
    allowed = refused = 0
    for problem in problems():
        search = InterRoute(problem)
        for seed in range(3):
            routes = random_plan(problem, seed)
            if len(routes) < 2:
                continue
            lay = search.layout(routes)
            delta = (search.relocate_deltas, search.swap_deltas, search.two_opt_star_deltas)[kind](lay)
            rows = lay.heads if kind == 2 else lay.customers
            cols = lay.customers if kind == 1 else lay.heads
            before = route_cost(problem, tuple(tuple(r) for r in routes))
            for i, pi in enumerate(rows):
                for j, pj in enumerate(cols):
                    ra, rb = int(lay.route[pi]), int(lay.route[pj])
                    if ra == rb:
                        assert delta[i, j] == _NEVER
                        continue
                    moved = apply(routes, kind, int(pi - lay.offset[ra]), int(pj - lay.offset[rb]), ra, rb)
                    verdict = check_routes(problem, [tuple(r) for r in moved])
                    assert sorted(c for r in moved for c in r) == list(range(1, problem.n_customers + 1))
                    if delta[i, j] == _NEVER:
                        refused += 1
                        assert not verdict.feasible
                    else:
                        allowed += 1
                        assert verdict.feasible, verdict.violations
                        assert route_cost(problem, tuple(tuple(r) for r in moved)) - before == delta[i, j]
    assert allowed > 50 and refused > 50


def test_optimise_keeps_every_customer_and_the_windows_and_never_costs_more():
    improved = 0
    for problem in problems():
        search = InterRoute(problem)
        for seed in range(3):
            routes = random_plan(problem, seed)
            before = route_cost(problem, tuple(tuple(r) for r in routes))
            out, change = search.optimise(routes)
            after = route_cost(problem, tuple(tuple(r) for r in out))
            assert sorted(c for r in out for c in r) == list(range(1, problem.n_customers + 1))
            assert check_routes(problem, [tuple(r) for r in out]).feasible
            assert after - before == change <= 0
            improved += change < 0
            assert search.optimise(out)[1] == 0  # a local optimum stays as it is
    assert improved > 10
