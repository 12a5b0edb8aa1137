"""A campaign's day in the simulated city, round by round: the closed loop without real users.

Each round (every ``round_minutes``, ``lead_min`` ahead of the crossings it targets) plans with Thompson
draws from the estimates, the simulated people answer with the choice model, answers update the
estimates and the user history, accepted offers are redeemed once and paid from the budget. At the end
the day is walked again with the accepted changes: the counterfactual against the same day without the
campaign, same population and seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from services.incentives.adapters import simulated_city as city
from services.incentives.domain.acceptance import AcceptanceEstimates
from services.incentives.domain.budget import BudgetBook
from services.incentives.domain.campaign import Campaign
from services.incentives.domain.people import UserHistory
from services.incentives.domain.redemption import OfferBook
from services.incentives.domain.rounds import Decision, plan_round
from simulator.demand import PURPOSES

LEAD_MIN = 30
PRIOR_STRENGTH = 20.0


@dataclass
class RoundRecord:
    minute: int
    sent: int
    accepted: int
    expected_effect: float
    expected_cost_yen: float
    paid_yen: int
    gap: float
    method: str
    estimates: np.ndarray  # posterior means [segment, offer] after the round's answers


@dataclass
class CampaignDay:
    campaign: Campaign
    peak: city.SimulatedPeak
    rounds: list[RoundRecord] = field(default_factory=list)
    decisions: list[tuple[int, Decision, bool]] = field(default_factory=list)  # (candidate row, decision, accepted)
    replay: city.Replay | None = None
    budget: BudgetBook | None = None
    prior: np.ndarray | None = None
    truth: np.ndarray | None = None


def run_day(campaign: Campaign, peak: city.SimulatedPeak, *, prior: np.ndarray | None = None, seed: int = 0,
            lead_min: int = LEAD_MIN) -> CampaignDay:
    """Run every round of the goal's window; ``prior`` [segment, offer] defaults to the choice model."""
    truth = city.true_acceptance(campaign)
    prior = truth if prior is None else prior
    offers = tuple(o.offer_id for o in campaign.catalogue)
    est = AcceptanceEstimates.from_prior(PURPOSES, offers, np.clip(prior, 0.001, 0.95), PRIOR_STRENGTH)
    history, budget = UserHistory(), BudgetBook(campaign.budget)
    book = OfferBook.empty(f"simulated-{campaign.campaign_id}-{seed}".encode().ljust(16, b"."))
    rng = np.random.default_rng([seed, 17])
    catalogue = city.sim_offers(campaign)
    t = peak.crossings.minute[peak.candidates]
    row_of = {f"trip-{trip}": i for i, trip in enumerate(peak.crossings.trip[peak.candidates])}
    day = CampaignDay(campaign, peak, budget=budget, prior=prior, truth=truth)
    a, b = campaign.goal.window
    for start in range(a, b, campaign.round_minutes):
        rows = peak.candidates[(t >= start) & (t < start + campaign.round_minutes)]
        ri = city.round_input(peak, campaign, minute=start - lead_min, rows=rows)
        plan = plan_round(campaign, ri, est, history, budget.remaining_expected(), budget.remaining_worst_case(),
                          rng)
        cand = np.array([row_of[d.user] for d in plan.decisions], dtype=np.int64)
        offer_idx = np.array([campaign.index(d.offer) for d in plan.decisions], dtype=np.int64)
        accepted = city.answer(peak, peak.candidates[cand], offer_idx, catalogue) if len(cand) else np.zeros(0, bool)
        paid = 0
        for d, row, ok in zip(plan.decisions, cand.tolist(), accepted.tolist(), strict=True):
            offer_id = f"{campaign.campaign_id}-{start}-{d.user}"
            rec = book.issue(offer_id, campaign.campaign_id, d.user, d.offer, d.segment, d.reward_yen,
                             ri.minute, valid_minutes=lead_min)
            budget.issue(offer_id, d.reward_yen, d.acceptance_sampled)
            history.offered(d.user)
            history.answered(d.user, ok)
            est.record(d.segment, d.offer, ok)
            if ok:
                book.answer(offer_id, True, ri.minute)
                budget.accepted(offer_id)
                book.redeem(rec.code, "simulated-gate")
                budget.redeemed(offer_id, d.reward_yen)
                paid += d.reward_yen
            else:
                book.answer(offer_id, False, ri.minute)
                budget.closed(offer_id)
            day.decisions.append((row, d, ok))
        alloc = plan.allocation
        day.rounds.append(RoundRecord(ri.minute, len(plan.decisions), int(accepted.sum()), plan.expected_effect,
                                      plan.expected_cost_yen, paid, alloc.gap if alloc else 0.0,
                                      alloc.method if alloc else (plan.skipped or "-"), est.mean().copy()))
    rows = np.array([peak.candidates[r] for r, _, _ in day.decisions], dtype=np.int64)
    offer_idx = np.array([campaign.index(d.offer) for _, d, _ in day.decisions], dtype=np.int64)
    accepted = np.array([ok for _, _, ok in day.decisions], dtype=bool)
    day.replay = city.replay(peak, rows, offer_idx, catalogue, accepted=accepted)
    return day
