"""The three-phase LP: exact cone feasibility after cuts and scaling, demands and rates kept, known optima."""

from __future__ import annotations

import numpy as np
import pytest

from services.charging.domain.three_phase_lp import PhaseNetwork, Sessions, coarse_blocks, initial_angles, plan_rates


def _sessions(charger, start, end, demand, max_rate) -> Sessions:
    return Sessions(np.asarray(charger), np.asarray(start), np.asarray(end), np.asarray(demand, dtype=float),
                    np.asarray(max_rate, dtype=float))


def _per_charger(plan_rates_, charger, n):
    load = np.zeros((n, plan_rates_.shape[1]))
    np.add.at(load, np.asarray(charger), plan_rates_)
    return load


def _delta_site(limit_line: float, limit_pod: float) -> PhaseNetwork:
    """Six chargers on a delta secondary: two on each of AB (30 deg), BC (-90) and CA (150).

    Line currents Ia = AB - CA, Ib = BC - AB, Ic = CA - BC, and a pod of the two AB chargers.
    """
    ab, bc, ca = np.array([1, 1, 0, 0, 0, 0.0]), np.array([0, 0, 1, 1, 0, 0.0]), np.array([0, 0, 0, 0, 1, 1.0])
    matrix = np.vstack([ab - ca, bc - ab, ca - bc, ab])
    return PhaseNetwork(matrix, np.array([limit_line] * 3 + [limit_pod]), np.array([30, 30, -90, -90, 150, 150.0]))


def test_two_chargers_sixty_degrees_apart_reach_the_cone_optimum():
    # max r1 + r2 subject to |r1 + r2 e^{i60deg}| <= 10: r1 = r2 = 10 / sqrt(3), total 20 / sqrt(3).
    net = PhaseNetwork(np.array([[1.0, 1.0]]), np.array([10.0]), np.array([0.0, 60.0]))
    plan = plan_rates(net, _sessions([0, 1], [0, 0], [1, 1], [100, 100], [32, 32]), np.array([1]), earlier_bonus=0,
                      tolerance=1e-7)
    optimum = 20 / np.sqrt(3)
    assert plan.delivered == pytest.approx(optimum, rel=1e-4)
    assert plan.bound >= optimum - 1e-9
    coarse = plan_rates(net, _sessions([0, 1], [0, 0], [1, 1], [100, 100], [32, 32]), np.array([1]),
                        earlier_bonus=0, tolerance=1e-3)  # stops early: the scaling gives up at most 0.1 %
    assert optimum * (1 - 1e-3) <= coarse.delivered <= optimum * (1 + 1e-9)
    assert net.feasible(_per_charger(plan.rates, [0, 1], 2), tolerance=0)


def test_an_optimum_between_the_first_cut_angles_is_reached_by_adding_cuts():
    # r1 <= 3: |3 + r2 e^{i60deg}| = 10 gives r2 = (-3 + sqrt(373)) / 2; its phasor angle is off the first grid.
    net = PhaseNetwork(np.array([[1.0, 1.0]]), np.array([10.0]), np.array([0.0, 60.0]))
    plan = plan_rates(net, _sessions([0, 1], [0, 0], [1, 1], [100, 100], [3, 32]), np.array([1]), earlier_bonus=0,
                      tolerance=1e-7)
    assert plan.delivered == pytest.approx(3 + (-3 + np.sqrt(373)) / 2, rel=1e-5)
    assert plan.cut_rounds > 1
    assert net.feasible(_per_charger(plan.rates, [0, 1], 2), tolerance=0)


def test_balanced_three_phase_load_cancels_and_every_charger_runs_at_full_rate():
    net = PhaseNetwork(np.array([[1.0, 1.0, 1.0]]), np.array([5.0]), np.array([0.0, 120.0, 240.0]))
    plan = plan_rates(net, _sessions([0, 1, 2], [0] * 3, [4] * 3, [1000] * 3, [32] * 3), coarse_blocks(4),
                      earlier_bonus=0)
    assert plan.delivered == pytest.approx(3 * 32 * 4, rel=1e-6)
    assert np.allclose(plan.rates, 32)


def test_single_phase_limit_and_deadlines_known_answer():
    # One line of 10 A for three periods; a car leaving after one period wants 8, one staying three wants
    # 22: the line's 30 A x periods only carry both if the first car gets its 8 before it leaves.
    net = PhaseNetwork(np.array([[1.0, 1.0]]), np.array([10.0]), np.array([0.0, 0.0]))
    plan = plan_rates(net, _sessions([0, 1], [0, 0], [1, 3], [8, 22], [32, 32]), np.ones(3, dtype=int))
    assert plan.delivered == pytest.approx(30, rel=1e-6)
    assert plan.rates.sum(axis=1) == pytest.approx([8, 22], rel=1e-6)
    assert plan.rates[0, 0] == pytest.approx(8, rel=1e-6)
    assert (plan.rates.sum(axis=0) <= 10 + 1e-9).all()


def test_earlier_energy_is_worth_more_so_a_lone_car_charges_at_once():
    net = PhaseNetwork(np.array([[1.0]]), np.array([100.0]), np.array([0.0]))
    plan = plan_rates(net, _sessions([0], [0], [10], [50], [20]), np.ones(10, dtype=int))
    assert plan.rates[0, :3] == pytest.approx([20, 20, 10])
    assert plan.rates[0, 3:].sum() == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_delta_sites_stay_inside_the_exact_cone_and_never_exceed_demand_or_rate(seed):
    rng = np.random.default_rng(seed)
    net = _delta_site(limit_line=float(rng.uniform(20, 60)), limit_pod=float(rng.uniform(20, 50)))
    k, horizon = 9, 30
    start = rng.integers(0, 10, k)
    end = start + rng.integers(2, 20, k)
    demand = rng.uniform(20, 400, k)
    max_rate = rng.uniform(6, 32, k)
    charger = rng.integers(0, 6, k)
    lengths = coarse_blocks(horizon, fine=5, steps=((12, 2),))
    plan = plan_rates(net, _sessions(charger, start, np.minimum(end, horizon), demand, max_rate), lengths)
    rates = plan.rates
    assert rates.shape == (k, horizon)
    assert (rates >= 0).all()
    assert (rates <= max_rate[:, None] + 1e-9).all()
    assert (rates.sum(axis=1) <= demand + 1e-6).all()
    for i in range(k):  # nothing outside a session's stay
        assert rates[i, : start[i]].sum() == 0 and rates[i, min(end[i], horizon):].sum() == 0
    load = _per_charger(rates, charger, 6)
    assert net.feasible(load, tolerance=0)
    assert plan.delivered <= plan.bound * (1 + 1e-9) + 1e-9


def test_scaling_keeps_the_limits_exactly():
    net = _delta_site(limit_line=30, limit_pod=25)
    load = np.full((6, 3), 32.0)
    load[:, 1] = [32, 0, 0, 0, 0, 0]
    scaled, factor = net.scale_to_fit(load)
    assert net.feasible(scaled, tolerance=0)
    assert (factor <= 1).all() and factor.min() < 1
    assert np.abs(net.magnitudes(scaled)).max() == pytest.approx(30 * (1 - 1e-9), rel=1e-8)


def test_coarse_blocks_cover_the_horizon_single_periods_first():
    lengths = coarse_blocks(400)
    assert lengths.sum() == 400
    assert (lengths[:12] == 1).all() and lengths.max() <= 48
    assert list(coarse_blocks(5)) == [1, 1, 1, 1, 1]


def test_inconsistent_input_is_refused_naming_the_field():
    with pytest.raises(ValueError, match="end must be after start"):
        _sessions([0], [3], [3], [1], [1])
    with pytest.raises(ValueError, match="limits"):
        PhaseNetwork(np.ones((2, 2)), np.ones(3), np.zeros(2))


def test_first_cuts_follow_each_constraints_arc():
    net = _delta_site(limit_line=30, limit_pod=25)
    angles = initial_angles(net, step_deg=10)
    assert len(angles[3]) == 1 and np.rad2deg(angles[3][0]) == pytest.approx(30)  # the AB pod: one exact cut
    line_a = np.sort(np.rad2deg(angles[0]))  # AB - CA: phasors at +30 and -30 degrees
    assert line_a[0] == pytest.approx(-30) and line_a[-1] == pytest.approx(30) and len(line_a) == 7


def test_by_departure_the_car_leaving_soonest_charges_first():
    # One 10 A line; both cars want 10 A x periods; the first leaves after two periods, the other after ten.
    # Both plans deliver everything, but charging the long stay first leaves the short one exposed.
    net = PhaseNetwork(np.array([[1.0, 1.0]]), np.array([10.0]), np.array([0.0, 0.0]))
    plan = plan_rates(net, _sessions([1, 0], [0, 0], [10, 2], [10, 10], [32, 32]), np.ones(10, dtype=int),
                      by_departure=True)
    assert plan.delivered == pytest.approx(20, rel=1e-6)
    assert plan.rates[1, 0] == pytest.approx(10) and plan.rates[0, 0] == pytest.approx(0, abs=1e-9)
    assert plan.rates[0, 1] == pytest.approx(10)
