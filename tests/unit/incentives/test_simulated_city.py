"""The optimiser in the simulated Ebina morning: the day walked again beats random offers at the same budget."""

from __future__ import annotations

import numpy as np
import pytest

from services.incentives.adapters import simulated_city as city
from services.incentives.domain.allocation import NONE, AllocationProblem
from services.incentives.domain.baselines import random_allocation
from services.incentives.domain.optimiser import solve
from services.incentives.ebina import gate_campaign


@pytest.fixture(scope="module")
def peak():
    return city.load_peak(gate_campaign(), agents=10_000, seed=3)


def _replay(peak, campaign, choice):
    rows = np.flatnonzero(choice != NONE)
    return city.replay(peak, peak.candidates[rows], choice[rows], city.sim_offers(campaign),
                       budget_yen=campaign.budget.daily_yen)


def test_ours_removes_more_load_than_random_at_the_same_budget(peak) -> None:
    """Same population, same seed, same budget: ours takes at least 1.5x the crossings out of the window."""
    campaign = gate_campaign(8_000)
    truth = city.true_acceptance(campaign)
    ri = city.round_input(peak, campaign)
    p = truth[ri.segment]
    face = np.array([o.reward_yen for o in campaign.catalogue])
    problem = AllocationProblem(p * ri.effect, p, face, ri.applicable, 8_000, campaign.budget.guard_yen)
    ours = _replay(peak, campaign, solve(problem).choice)
    rand = _replay(peak, campaign, random_allocation(problem, np.random.default_rng(1)))
    assert ours.paid_yen <= campaign.budget.daily_yen and rand.paid_yen <= campaign.budget.daily_yen
    assert ours.window_removed > 0
    assert ours.window_removed >= 1.5 * max(rand.window_removed, 1)


def test_replay_without_offers_is_the_baseline(peak) -> None:
    """The counterfactual is exact: no offers, the same load curve as the day the campaign planned on."""
    campaign = gate_campaign()
    r = city.replay(peak, peak.candidates[:0], np.zeros(0, dtype=np.int64), city.sim_offers(campaign))
    assert r.window_removed == 0 and np.array_equal(r.load_after, peak.load)
