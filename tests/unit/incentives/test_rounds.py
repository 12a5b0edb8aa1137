"""A campaign round: the fairness rules hold whatever the optimiser would like, and decisions explain themselves."""

from __future__ import annotations

import numpy as np
import pytest

from services.incentives.domain.acceptance import AcceptanceEstimates
from services.incentives.domain.campaign import Budget, FairnessCaps, Goal, Targeting
from services.incentives.domain.catalogue import OfferSpec
from services.incentives.domain.effects import load_cut_effect
from services.incentives.domain.people import UserHistory
from services.incentives.domain.rounds import RoundInput, plan_round
from tests.unit.incentives.conftest import CATALOGUE, SEGMENTS, make_campaign


def round_input(n: int = 120, seed: int = 0, minute: int = 440) -> RoundInput:
    rng = np.random.default_rng(seed)
    load = np.zeros(1440)
    load[420:540] = 200 + 100 * np.sin(np.linspace(0, np.pi, 120))
    crossing = rng.integers(450, 510, size=n)
    goal = Goal("cut_load", "odakyu_gates", (450, 510), 0.1)
    effect, applicable = load_cut_effect(goal, CATALOGUE, crossing, load)
    return RoundInput(minute=minute, users=np.array([f"u{i}" for i in range(n)]),
                      segment=rng.integers(0, len(SEGMENTS), size=n), segments=SEGMENTS, effect=effect,
                      applicable=applicable, crossing_minute=crossing)


def plan(campaign, inputs, estimates, history, budget=2_000.0, guard=6_000.0, seed=0):
    return plan_round(campaign, inputs, estimates, history, budget, guard, np.random.default_rng(seed))


def test_opted_out_users_never_get_offers(campaign, estimates) -> None:
    """Opted-out users are left out even when they are the best value in the round."""
    inputs = round_input()
    history = UserHistory()
    first = plan(campaign, inputs, estimates, history)
    chosen = {d.user for d in first.decisions}
    assert chosen
    for user in chosen:
        history.opt_out(user)
    second = plan(campaign, inputs, estimates, history)
    assert not chosen & {d.user for d in second.decisions}


def test_offers_per_user_per_day_capped(estimates) -> None:
    """A user at the daily cap receives nothing more until the next day."""
    campaign = make_campaign(caps=FairnessCaps(max_offers_per_user_per_day=1, quiet_hours=None))
    inputs, history = round_input(), UserHistory()
    for d in plan(campaign, inputs, estimates, history).decisions:
        history.offered(d.user)
    capped = set(history.offers_today)
    again = plan(campaign, inputs, estimates, history, seed=1)
    assert not capped & {d.user for d in again.decisions}
    history.new_day()
    assert capped & {d.user for d in plan(campaign, inputs, estimates, history, seed=1).decisions}


def test_quiet_hours_send_nothing(campaign, estimates) -> None:
    plan_at_night = plan(campaign, round_input(minute=23 * 60), estimates, UserHistory())
    assert plan_at_night.decisions == [] and "quiet hours" in plan_at_night.skipped


def test_round_stays_within_remaining_budgets(campaign, estimates) -> None:
    """Sum of expected costs within the expected remainder, sum of rewards within the guard remainder."""
    for budget, guard in ((300.0, 10_000.0), (5_000.0, 900.0), (0.0, 1_000.0)):
        p = plan(campaign, round_input(n=400), estimates, UserHistory(), budget=budget, guard=guard)
        assert p.expected_cost_yen <= budget + 1e-6
        assert sum(d.reward_yen for d in p.decisions) <= guard


def test_segment_excluded_only_with_a_reason() -> None:
    with pytest.raises(ValueError, match=r"targeting.excluded.shopping: .*reason"):
        Targeting(excluded={"shopping": " "})
    with pytest.raises(ValueError, match=r"targeting\.reason"):
        Targeting(segments=("commute_in",))


def test_excluded_segment_gets_nothing_and_the_reason_is_kept(estimates) -> None:
    campaign = make_campaign(targeting=Targeting(excluded={"shopping": "shops asked not to pay shoppers to leave"}))
    p = plan(campaign, round_input(n=300), estimates, UserHistory())
    assert p.decisions and all(d.segment != "shopping" for d in p.decisions)
    assert p.excluded_segments == {"shopping": "shops asked not to pay shoppers to leave"}


def test_segment_floor_gives_every_allowed_segment_offers(estimates) -> None:
    """With a floor, the segment that is dearest to move (per yen of face value, when the guard binds) still
    receives offers."""
    mean = estimates.mean().copy()
    mean[0] = 0.01  # commuters in barely accept: without a floor they would get nothing
    est = AcceptanceEstimates.from_prior(estimates.segments, estimates.offers, mean, strength=10_000)
    no_floor = plan(make_campaign(), round_input(n=300), est, UserHistory(), budget=5_000.0, guard=600.0)
    floored = plan(make_campaign(caps=FairnessCaps(min_offers_per_segment=3)), round_input(n=300), est,
                   UserHistory(), budget=5_000.0, guard=600.0)
    assert sum(d.segment == "commute_in" for d in no_floor.decisions) == 0
    assert sum(d.segment == "commute_in" for d in floored.decisions) >= 3


def test_declines_reduce_offers(campaign, estimates) -> None:
    """Users who declined twice are offered less; after three in a row, not at all that day."""
    inputs, history = round_input(n=200), UserHistory()
    base = {d.user for d in plan(campaign, inputs, estimates, history, budget=600.0).decisions}
    for user in inputs.users[:100]:
        history.answered(str(user), False)
        history.answered(str(user), False)
    tired = {d.user for d in plan(campaign, inputs, estimates, history, budget=600.0).decisions}
    first_half = set(inputs.users[:100].tolist())
    assert len(tired & first_half) < len(base & first_half)
    for user in inputs.users[:100]:
        history.answered(str(user), False)
    assert not first_half & {d.user for d in plan(campaign, inputs, estimates, history, budget=600.0).decisions}


def test_every_decision_carries_its_numbers(campaign, estimates) -> None:
    p = plan(campaign, round_input(), estimates, UserHistory())
    d = p.decisions[0]
    assert d.expected_effect == pytest.approx(d.acceptance_sampled * d.effect, abs=1e-3)
    assert d.expected_cost_yen == pytest.approx(d.acceptance_sampled * d.reward_yen, abs=0.01)
    assert d.effect_per_expected_yen == pytest.approx(d.effect / d.reward_yen, rel=1e-3)
    assert "odakyu_gates" in d.why_user and "expected yen" in d.why_offer


def test_campaign_rules_name_the_field() -> None:
    with pytest.raises(ValueError, match=r"budget\.guard_yen"):
        Budget(daily_yen=1000, guard_yen=500)
    with pytest.raises(ValueError, match="shop"):
        OfferSpec("c", "coupon", 100, shift_min=10)
    with pytest.raises(ValueError, match=r"goal\.share"):
        Goal("cut_load", "odakyu_gates", (450, 510), 0.0)
    with pytest.raises(ValueError, match="catalogue: a fill_chargers goal"):
        make_campaign(goal=Goal("fill_chargers", "ebina-ev-hub", (660, 840), 0.5))
