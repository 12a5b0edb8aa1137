"""VRPTW: the independent checker on published solutions and on broken ones; the solver against optima."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from services.logistics.adapters.solomon import read_sol, read_solomon
from services.logistics.domain.check import check_routes
from services.logistics.domain.vrptw import SearchConfig, VrptwProblem, solve

SOLOMON = Path(__file__).resolve().parents[3] / "data" / "vrptw" / "solomon"


@pytest.fixture(scope="session")
def c101() -> VrptwProblem:
    return read_solomon(SOLOMON / "C101.txt")


def tiny(seed: int, n: int = 6, vehicles: int = 2) -> VrptwProblem:
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 50, (n + 1, 2))
    travel = np.rint(np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))).astype(np.int64)
    ready = np.concatenate([[0], rng.integers(0, 80, n)])
    return VrptwProblem(travel=travel, demand=np.concatenate([[0], rng.integers(1, 5, n)]), ready=ready,
                        due=np.concatenate([[400], ready[1:] + rng.integers(60, 200, n)]),
                        service=np.concatenate([[0], np.full(n, 5)]), capacity=10, vehicles=vehicles)


def brute_force(problem: VrptwProblem) -> int:
    """Optimum by enumerating every order of the customers and every split into at most two routes."""
    n, best = problem.n_customers, None
    for perm in itertools.permutations(range(1, n + 1)):
        for cut in range(n + 1):
            routes = tuple(r for r in (perm[:cut], perm[cut:]) if r)
            verdict = check_routes(problem, routes)
            if verdict.feasible and (best is None or verdict.cost < best):
                best = verdict.cost
    assert best is not None
    return best


@pytest.mark.parametrize("name", ["C101", "R101", "RC105"])
def test_checker_accepts_best_known_solutions_at_their_published_cost(name):
    """CVRPLIB's best-known routes are feasible and cost exactly their Cost line (edges truncated to 0.1)."""
    problem = read_solomon(SOLOMON / f"{name}.txt")
    routes, cost = read_sol(SOLOMON / f"{name}.sol")
    verdict = check_routes(problem, routes)
    assert verdict.feasible, verdict.violations
    assert verdict.cost == round(cost * 10)


def test_checker_names_each_broken_rule(c101):
    """A missing customer, a repeated one, an overloaded route and a late visit are each reported."""
    routes, _ = read_sol(SOLOMON / "C101.sol")
    missing = [r[:] for r in routes]
    missing[0] = missing[0][1:]
    assert any("is not visited" in v for v in check_routes(c101, missing).violations)
    twice = [r[:] for r in routes]
    twice[1].append(twice[0][0])
    assert any("visited 2 times" in v for v in check_routes(c101, twice).violations)
    merged = [routes[0] + routes[1] + routes[2], *routes[3:]]
    verdict = check_routes(c101, merged)
    assert any("above capacity" in v for v in verdict.violations)
    reversed_route = [list(reversed(routes[0])), *routes[1:]]
    assert any("after its due time" in v for v in check_routes(c101, reversed_route).violations)


@pytest.mark.parametrize("seed", [2, 3, 6])
def test_solver_finds_the_optimum_of_small_instances(seed):
    """On 6-customer instances the solver's cost equals the brute-force optimum, and the checker agrees."""
    problem = tiny(seed)
    optimum = brute_force(problem)
    solution = solve(problem, seconds=1.0)
    verdict = check_routes(problem, solution.routes)
    assert verdict.feasible, verdict.violations
    assert verdict.cost == solution.cost == optimum


def test_solver_solution_of_c101_is_feasible_and_near_optimal(c101):
    """Two seconds on C101 give a feasible plan within 5 % of the best known 827.3."""
    solution = solve(c101, seconds=2.0)
    verdict = check_routes(c101, solution.routes)
    assert verdict.feasible, verdict.violations
    assert verdict.cost <= 1.05 * 8273


def test_unservable_customer_is_dropped_only_when_allowed():
    """A customer whose window closes before anyone can reach it is reported unserved, not hidden."""
    problem = tiny(4, n=4)
    due = problem.due.copy()
    due[1] = 0
    ready = problem.ready.copy()
    ready[1] = 0
    bad = VrptwProblem(**{**problem.__dict__, "due": due, "ready": ready})
    solution = solve(bad, seconds=0.5, allow_drop=True)
    assert solution.unserved == (1,)
    assert check_routes(bad, solution.routes, solution.unserved).feasible
    assert not check_routes(bad, solution.routes).feasible


def test_problem_refuses_inconsistent_input():
    """Windows that close before they open and demands above capacity are refused at construction."""
    problem = tiny(5)
    with pytest.raises(ValueError, match="ready time is after"):
        VrptwProblem(**{**problem.__dict__, "ready": problem.due + 1})
    with pytest.raises(ValueError, match="exceeds the vehicle capacity"):
        VrptwProblem(**{**problem.__dict__, "capacity": 1})


def test_search_from_several_starts_keeps_a_feasible_near_optimal_plan(c101):
    """With time for every start (and the ruin and recreate from the best) C101 stays feasible, within 2 %."""
    config = SearchConfig(min_start_s=0.4)
    solution = solve(c101, seconds=3.0, config=config)
    verdict = check_routes(c101, solution.routes)
    assert verdict.feasible, verdict.violations
    assert verdict.cost == solution.cost <= 1.02 * 8273
