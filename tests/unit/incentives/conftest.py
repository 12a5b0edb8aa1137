"""Small named campaign and round instances, built once; every random draw takes a seed."""

from __future__ import annotations

import numpy as np
import pytest

from services.incentives.domain.acceptance import AcceptanceEstimates
from services.incentives.domain.allocation import AllocationProblem
from services.incentives.domain.campaign import Budget, Campaign, FairnessCaps, Goal
from services.incentives.domain.catalogue import OfferSpec

CATALOGUE = (
    OfferSpec("early15", "shift_earlier", 100, shift_min=15),
    OfferSpec("early30", "shift_earlier", 150, shift_min=30),
    OfferSpec("late15", "shift_later", 100, shift_min=15),
    OfferSpec("cafe20", "coupon", 200, shift_min=20, shop="vinawalk-cafe"),
)
SEGMENTS = ("commute_in", "commute_out", "shopping")


def make_campaign(**changes) -> Campaign:
    fields = dict(campaign_id="gate-am", operator="odakyu-ebina",
                  goal=Goal("cut_load", "odakyu_gates", (450, 510), 0.1),
                  budget=Budget(daily_yen=5_000, guard_yen=12_000), catalogue=CATALOGUE,
                  caps=FairnessCaps(max_offers_per_user_per_day=2, quiet_hours=(22 * 60, 6 * 60)))
    fields.update(changes)
    return Campaign(**fields)


@pytest.fixture
def campaign() -> Campaign:
    return make_campaign()


@pytest.fixture
def estimates() -> AcceptanceEstimates:
    mean = np.array([[0.10, 0.08, 0.12, 0.20], [0.11, 0.09, 0.13, 0.22], [0.18, 0.15, 0.20, 0.35]])
    return AcceptanceEstimates.from_prior(SEGMENTS, tuple(o.offer_id for o in CATALOGUE), mean, strength=30)


def random_problem(seed: int, n: int = 60, k: int = 4, budget: float = 800.0, guard: float = 3_000.0,
                   ) -> AllocationProblem:
    rng = np.random.default_rng(seed)
    face = rng.choice([50, 100, 150, 200, 300], size=k)
    p = rng.uniform(0.02, 0.6, size=(n, k))
    effect = rng.random((n, k)) * (rng.random((n, 1)) < 0.8)
    return AllocationProblem(p * effect, p, face, rng.random((n, k)) < 0.85, budget, guard)
