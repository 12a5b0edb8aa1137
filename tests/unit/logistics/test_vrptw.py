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
    config = SearchConfig(min_start_s=0.25)
    assert 3.0 * min(share for _, share in config.starts) >= config.min_start_s  # several starts, not one
    solution = solve(c101, seconds=3.0, config=config)
    verdict = check_routes(c101, solution.routes)
    assert verdict.feasible, verdict.violations
    assert verdict.cost == solution.cost <= 1.02 * 8273


def two_vehicles(**kw: object) -> VrptwProblem:
    """Four customers on a line; customer 4 weighs 8, more than vehicle 0 (capacity 3) carries."""
    xy = np.array([0, 10, 20, 30, 40])
    travel = np.abs(xy[:, None] - xy[None]).astype(np.int64)
    args: dict[str, object] = dict(
        travel=travel, demand=np.array([0, 1, 1, 1, 8]), ready=np.zeros(5, dtype=np.int64),
        due=np.array([500, 400, 400, 400, 400]), service=np.array([0, 5, 5, 5, 5]), capacity=10, vehicles=2,
        capacities=(3, 10), vehicle_due=(200, 500))
    args.update(kw)
    return VrptwProblem(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize("min_start_s", [1.0, 0.05])
def test_vehicles_that_differ_keep_their_own_capacity_and_return(min_start_s):
    """The heavy customer rides on the vehicle that can carry it, with one start or several (and the
    continuation from the best); the solution names the vehicles and the checker agrees with them."""
    problem = two_vehicles()
    solution = solve(problem, seconds=0.6, config=SearchConfig(min_start_s=min_start_s))
    assert solution.unserved == ()
    assert len(solution.vehicles) == len(solution.routes)
    on = {c: v for v, r in zip(solution.vehicles, solution.routes, strict=True) for c in r}
    assert on[4] == 1
    verdict = check_routes(problem, solution.routes, vehicles=solution.vehicles)
    assert verdict.feasible, verdict.violations
    assert verdict.cost == solution.cost
    per_vehicle = solution.by_vehicle(problem.vehicles)
    assert len(per_vehicle) == 2 and per_vehicle[1] and 4 in per_vehicle[1]


def test_a_vehicle_due_back_early_gets_no_route_past_it():
    """Vehicle 0 must be back by 50: it cannot serve customer 4 (80 there and back) even with room."""
    problem = two_vehicles(capacities=(10, 10), vehicle_due=(50, 500), demand=np.array([0, 1, 1, 1, 1]))
    solution = solve(problem, seconds=0.3)
    assert solution.unserved == ()
    on = {c: v for v, r in zip(solution.vehicles, solution.routes, strict=True) for c in r}
    assert on[4] == 1
    assert check_routes(problem, solution.routes, vehicles=solution.vehicles).feasible


def test_checker_holds_each_route_to_its_own_vehicle():
    """The same routes on the wrong vehicles: over vehicle 0's capacity and back after its return."""
    problem = two_vehicles()
    routes = [(1, 2), (3, 4)]
    assert check_routes(problem, routes, vehicles=(0, 1)).feasible
    swapped = check_routes(problem, routes, vehicles=(1, 0)).violations
    assert any("load 9 above capacity 3" in v for v in swapped)
    early = two_vehicles(vehicle_due=(60, 500), capacities=(10, 10))
    assert check_routes(early, [(1, 2), (3, 4)]).feasible              # route k on vehicle k by default
    late = check_routes(early, [(3, 4), (1, 2)]).violations
    assert late == ("route 1: back at the depot at 90, after 60",)
    assert any("drives 2 routes" in v for v in check_routes(problem, routes, vehicles=(1, 1)).violations)
    assert any("vehicle 2 does not exist" in v for v in check_routes(problem, routes, vehicles=(0, 2)).violations)


def test_problem_refuses_inconsistent_vehicles():
    """Per-vehicle capacities and returns: one per vehicle, positive, within the depot's window; a demand
    above the largest capacity is refused, one above a smaller one is not."""
    with pytest.raises(ValueError, match="capacities must have one value per vehicle"):
        two_vehicles(capacities=(10,))
    with pytest.raises(ValueError, match="capacities must be positive"):
        two_vehicles(capacities=(0, 10))
    with pytest.raises(ValueError, match="vehicle_due must have one value per vehicle"):
        two_vehicles(vehicle_due=(100, 200, 300))
    with pytest.raises(ValueError, match="vehicle_due must lie within the depot's window"):
        two_vehicles(vehicle_due=(100, 600))
    with pytest.raises(ValueError, match="exceeds the vehicle capacity"):
        two_vehicles(capacities=(3, 7))
    assert two_vehicles().vehicle_capacities == (3, 10)
    assert two_vehicles(capacities=(), vehicle_due=()).vehicle_returns == (500, 500)


def test_vehicles_of_their_own_leave_no_earlier_than_ready_carry_no_more_stops_and_cost_when_used():
    """vehicle_ready, vehicle_stops and vehicle_fixed_cost hold in the solution and the checker sees each broken."""
    base = tiny(3, n=6)
    problem = VrptwProblem(**{**base.__dict__, "due": np.concatenate([[2000], base.due[1:] + 1000]),
                              "vehicle_ready": (0, 150), "vehicle_stops": (6, 2), "vehicle_fixed_cost": (0, 40)})
    solution = solve(problem, seconds=0.5, allow_drop=True)
    verdict = check_routes(problem, solution.routes, solution.unserved, solution.vehicles)
    assert verdict.feasible, verdict.violations
    assert verdict.cost == solution.cost
    assert all(len(r) <= 2 for r, v in zip(solution.routes, solution.vehicles, strict=True) if v == 1)
    # a route on vehicle 1 of three stops breaks its limit; one leaving before 150 with a window due at 100
    assert any("customers, above 2" in v for v in check_routes(problem, [[1, 2, 3], [4, 5, 6]]).violations)
    early = VrptwProblem(**{**problem.__dict__, "due": np.array([2000, 100, *problem.due[2:]])})
    assert not check_routes(early, [[2, 3, 4, 5, 6], [1]], vehicles=(0, 1)).feasible
    assert check_routes(early, [[1], [2, 3]], unserved=(4, 5, 6), vehicles=(0, 1)).cost == \
        check_routes(problem, [[1], [2, 3]], unserved=(4, 5, 6), vehicles=(0, 1)).cost
    with pytest.raises(ValueError, match="vehicle_ready must lie"):
        VrptwProblem(**{**problem.__dict__, "vehicle_ready": (0, 5000)})


def test_a_vehicles_stop_cost_is_in_the_objective_and_the_checkers_cost():
    base = tiny(4, n=5)
    problem = VrptwProblem(**{**base.__dict__, "due": np.concatenate([[2000], base.due[1:] + 1000]),
                              "vehicle_stop_cost": (0, 50)})
    solution = solve(problem, seconds=0.3, allow_drop=True)
    verdict = check_routes(problem, solution.routes, solution.unserved, solution.vehicles)
    assert verdict.feasible and verdict.cost == solution.cost
    plain = check_routes(base, [[1, 2], [3, 4, 5]], vehicles=(0, 1))
    assert check_routes(problem, [[1, 2], [3, 4, 5]], vehicles=(0, 1)).cost == plain.cost + 3 * 50
