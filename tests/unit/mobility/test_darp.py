"""Dial-a-ride: the independent checker (exact schedule existence) and the OR-Tools model against optima."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from services.mobility.adapters.cordeau import read_cordeau
from services.mobility.domain.check import check_plan
from services.mobility.domain.darp import DarpProblem, solve

DARP = Path(__file__).resolve().parents[3] / "data" / "darp" / "cordeau_laporte"


def line_problem(max_ride: int = 100, capacity: int = 3, duration: int = 1000, d_earliest: int = 0) -> DarpProblem:
    """Depot 0 at x=0; one request picked up at x=5 (node 1), dropped at x=15 (node 2)."""
    x = np.array([0, 5, 15])
    travel = np.abs(x[:, None] - x[None, :]).astype(np.int64)
    return DarpProblem(travel=travel, service=np.zeros(3, dtype=np.int64), earliest=np.array([0, 0, d_earliest]),
                       latest=np.array([1000, 100, 1000]), load=np.array([0, 1, -1]), pickups=np.array([1]),
                       deliveries=np.array([2]), max_ride=np.array([max_ride]), starts=np.array([0]),
                       ends=np.array([0]), capacity=np.array([capacity]), max_duration=np.array([duration]))


def random_problem(seed: int, n_requests: int = 3) -> DarpProblem:
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 30, (2 * n_requests + 1, 2))
    travel = np.ceil(np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))).astype(np.int64)
    e = rng.integers(0, 60, n_requests)
    n = 2 * n_requests + 1
    earliest = np.zeros(n, dtype=np.int64)
    latest = np.full(n, 400, dtype=np.int64)
    earliest[1:n_requests + 1] = e
    latest[1:n_requests + 1] = e + 90
    load = np.concatenate([[0], np.ones(n_requests, int), -np.ones(n_requests, int)])
    return DarpProblem(travel=travel, service=np.concatenate([[0], np.full(2 * n_requests, 2)]),
                       earliest=earliest, latest=latest, load=load, pickups=np.arange(1, n_requests + 1),
                       deliveries=np.arange(n_requests + 1, n), max_ride=np.full(n_requests, 70),
                       starts=np.array([0]), ends=np.array([0]), capacity=np.array([2]), max_duration=np.array([300]))


def brute_force(problem: DarpProblem) -> int | None:
    nodes = [*problem.pickups.tolist(), *problem.deliveries.tolist()]
    best = None
    for order in itertools.permutations(nodes):
        verdict = check_plan(problem, [list(order)])
        if verdict.feasible and (best is None or verdict.cost < best):
            best = verdict.cost
    return best


def test_checker_accepts_a_plan_that_needs_a_later_pick_up():
    """Leaving at once would make the ride too long (drop-off cannot start before 40); waiting first is fine:
    the checker finds that schedule instead of refusing the plan."""
    problem = line_problem(max_ride=15, d_earliest=40)
    assert check_plan(problem, [[1, 2]]).feasible


def test_checker_refuses_each_broken_rule():
    """Ride too long, drop-off before pick-up, capacity, route duration and a lost request are each refused."""
    assert any("no schedule" in v for v in check_plan(line_problem(max_ride=5), [[1, 2]]).violations)
    assert any("before it is picked up" in v for v in check_plan(line_problem(), [[2, 1]]).violations)
    heavy = line_problem(capacity=1)
    heavy = DarpProblem(**{**heavy.__dict__, "load": np.array([0, 2, -2])})
    assert any("load" in v for v in check_plan(heavy, [[1, 2]]).violations)
    assert any("no schedule" in v for v in check_plan(line_problem(duration=20), [[1, 2]]).violations)
    assert any("not served" in v for v in check_plan(line_problem(), [[]]).violations)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_solver_matches_brute_force_on_three_requests(seed):
    """One vehicle, three requests: the solver's plan costs what enumerating every order finds."""
    problem = random_problem(seed)
    optimum = brute_force(problem)
    solution = solve(problem, seconds=1.0)
    assert optimum is not None
    verdict = check_plan(problem, solution.routes, solution.unserved)
    assert verdict.feasible, verdict.violations
    assert verdict.cost == optimum


def test_cordeau_a2_16_reaches_its_optimum():
    """a2-16 (optimum 294.25): a feasible plan within 1 % in a few seconds, every rule checked."""
    instance = read_cordeau(DARP / "a2-16.txt")
    solution = solve(instance.problem, seconds=3.0)
    verdict = check_plan(instance.problem, solution.routes, solution.unserved)
    assert verdict.feasible, verdict.violations
    assert instance.exact_cost(solution.routes) <= 294.25 * 1.01


def test_reader_refuses_a_file_of_another_format(tmp_path):
    """A Solomon file given as a dial-a-ride file is refused with the file named."""
    bad = tmp_path / "x.txt"
    bad.write_text("C101\n\nVEHICLE\nNUMBER CAPACITY\n25 200\n")
    with pytest.raises(ValueError, match=r"x\.txt"):
        read_cordeau(bad)


def test_progress_over_several_starts_only_improves_and_ends_at_the_plan():
    """The plans reported along the way (from every start and the continuation) get strictly cheaper, come in
    time order within the limit, and the last one is the plan returned."""
    instance = read_cordeau(DARP / "a2-16.txt")
    progress: list = []
    solution = solve(instance.problem, seconds=4.0, progress=progress)
    assert progress
    times, costs = [p[0] for p in progress], [p[1] for p in progress]
    assert times == sorted(times) and times[-1] <= 4.5
    assert all(b < a for a, b in itertools.pairwise(costs))
    assert costs[-1] == solution.cost
    assert check_plan(instance.problem, progress[-1][2]).feasible
