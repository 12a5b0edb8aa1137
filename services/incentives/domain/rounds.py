"""One round of a campaign: the rules decide who may get what, the estimates say who would accept, the
optimiser picks, and every decision is written down with its numbers.

Inputs are the round's candidates (users with an expected trip the goal cares about) and, per user and
offer, the ``effect``: goal units gained if that user accepts that offer (e.g. crossings removed from the
chokepoint's window, weighted by how crowded their minute is). Values are acceptance x effect.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from services.incentives.domain.acceptance import AcceptanceEstimates
from services.incentives.domain.allocation import NONE, Allocation, AllocationProblem
from services.incentives.domain.campaign import Campaign, clock
from services.incentives.domain.effects import UNITS
from services.incentives.domain.optimiser import SolveParams, solve
from services.incentives.domain.people import UserHistory


@dataclass(frozen=True)
class RoundInput:
    """Candidates of one round. ``segment[u]`` indexes ``segments``; ``crossing_minute[u]`` is when the user
    is expected at the goal's place (-1 if unknown); ``applicable[u, o]``: the offer fits the trip."""

    minute: int
    users: np.ndarray
    segment: np.ndarray
    segments: tuple[str, ...]
    effect: np.ndarray
    applicable: np.ndarray
    crossing_minute: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.users)
        if self.segment.shape != (n,) or self.effect.shape[0] != n or self.applicable.shape != self.effect.shape:
            raise ValueError("round input: users, segment, effect and applicable must agree in length")
        if len(self.segment) and (self.segment.min() < 0 or self.segment.max() >= len(self.segments)):
            raise ValueError("round input: segment index out of range")


@dataclass(frozen=True)
class Decision:
    """One offer to one user, and why, in numbers."""

    user: str
    segment: str
    offer: str
    reward_yen: int
    acceptance_mean: float      # posterior mean for (segment, offer), after the user's declines
    acceptance_sampled: float   # the Thompson draw the round used
    effect: float               # goal units if accepted
    expected_effect: float      # acceptance x effect
    expected_cost_yen: float    # acceptance x reward
    effect_per_expected_yen: float
    runner_up: str | None       # the next-best offer for this user
    runner_up_expected_effect: float
    why_user: str
    why_offer: str

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class RoundPlan:
    minute: int
    decisions: list[Decision]
    allocation: Allocation | None
    candidates: int
    eligible: int
    excluded_segments: dict[str, str] = field(default_factory=dict)
    skipped: str | None = None  # why nothing was sent, when nothing could be

    @property
    def expected_effect(self) -> float:
        return sum(d.expected_effect for d in self.decisions)

    @property
    def expected_cost_yen(self) -> float:
        return sum(d.expected_cost_yen for d in self.decisions)


def eligibility(campaign: Campaign, inputs: RoundInput, history: UserHistory) -> tuple[np.ndarray, dict[str, str]]:
    """[users, offers] mask of what the rules allow, and the segments left out with their reasons."""
    opted_out, offers_today, declines = history.arrays(inputs.users)
    caps = campaign.caps
    user_ok = ~opted_out & (offers_today < caps.max_offers_per_user_per_day) & (declines < caps.pause_after_declines)
    seg_ok = np.array([campaign.targeting.allows(s) for s in inputs.segments], dtype=bool)
    user_ok &= seg_ok[inputs.segment] if len(inputs.segment) else user_ok
    excluded = {s: str(campaign.targeting.why_not(s)) for s in inputs.segments if not campaign.targeting.allows(s)}
    return inputs.applicable & (inputs.effect > 0) & user_ok[:, None], excluded


def plan_round(campaign: Campaign, inputs: RoundInput, estimates: AcceptanceEstimates, history: UserHistory,
               remaining_expected_yen: float, remaining_worst_yen: float, rng: np.random.Generator,
               params: SolveParams = SolveParams()) -> RoundPlan:
    """Decide the round's offers within the remaining budgets (expected and worst case)."""
    n = len(inputs.users)
    if campaign.caps.quiet(inputs.minute):
        return RoundPlan(inputs.minute, [], None, n, 0, skipped=f"quiet hours at {clock(inputs.minute)}")
    allowed, excluded = eligibility(campaign, inputs, history)
    seg_index = [estimates.segments.index(s) for s in inputs.segments]
    off_index = [estimates.offers.index(o.offer_id) for o in campaign.catalogue]
    sampled = estimates.sample(rng)[np.ix_(seg_index, off_index)]
    mean = estimates.mean()[np.ix_(seg_index, off_index)]
    _, _, declines = history.arrays(inputs.users)
    fatigue = campaign.caps.decline_factor ** declines[:, None]
    p = sampled[inputs.segment] * fatigue
    face = np.array([o.reward_yen for o in campaign.catalogue], dtype=np.int64)
    reserved_expected, reserved_worst, floor_pairs = _segment_floors(
        campaign, inputs, allowed, p, face, remaining_expected_yen, remaining_worst_yen)
    allowed_rest = allowed.copy()
    for u, _o in floor_pairs:
        allowed_rest[u] = False
    problem = AllocationProblem(value=p * inputs.effect, probability=p, face_yen=face, allowed=allowed_rest,
                                budget_expected_yen=max(remaining_expected_yen - reserved_expected, 0.0),
                                budget_worst_yen=max(remaining_worst_yen - reserved_worst, 0.0))
    allocation = solve(problem, params)
    choice = allocation.choice.copy()
    for u, o in floor_pairs:
        choice[u] = o
    decisions = [_explain(campaign, inputs, int(u), int(choice[u]), p, mean[inputs.segment[u]] * fatigue[u, 0],
                          allowed) for u in np.flatnonzero(choice != NONE)]
    return RoundPlan(inputs.minute, decisions, allocation, n, int(allowed.any(axis=1).sum()), excluded)


def _segment_floors(campaign: Campaign, inputs: RoundInput, allowed: np.ndarray, p: np.ndarray, face: np.ndarray,
                    budget_expected: float, budget_worst: float) -> tuple[float, float, list[tuple[int, int]]]:
    """Reserve ``min_offers_per_segment`` offers for each segment that has eligible users, best ratio first,
    so no segment goes without offers merely because another is cheaper to move."""
    floor = campaign.caps.min_offers_per_segment
    picked: list[tuple[int, int]] = []
    spent_e = spent_w = 0.0
    if floor == 0:
        return 0.0, 0.0, picked
    value = np.where(allowed, p * inputs.effect, 0.0)
    ratio = value / np.maximum(p * face[None, :], 1e-9)
    for s in range(len(inputs.segments)):
        users = np.flatnonzero((inputs.segment == s) & allowed.any(axis=1))
        if len(users) == 0:
            continue
        best_offer = ratio[users].argmax(axis=1)
        order = np.argsort(-ratio[users, best_offer], kind="stable")[:floor]
        for i in order:
            u, o = int(users[i]), int(best_offer[i])
            cost_e, cost_w = float(p[u, o] * face[o]), float(face[o])
            if spent_e + cost_e <= budget_expected and spent_w + cost_w <= budget_worst:
                picked.append((u, o))
                spent_e, spent_w = spent_e + cost_e, spent_w + cost_w
    return spent_e, spent_w, picked


def _explain(campaign: Campaign, inputs: RoundInput, u: int, o: int, p: np.ndarray, mean_row: np.ndarray,
             allowed: np.ndarray) -> Decision:
    offer = campaign.catalogue[o]
    effect = float(inputs.effect[u, o])
    value_row = np.where(allowed[u], p[u] * inputs.effect[u], -1.0)
    value_row[o] = -1.0
    runner = int(value_row.argmax()) if (value_row >= 0).any() else None
    expected_cost = float(p[u, o] * offer.reward_yen)
    where = campaign.goal.place
    crossing = (int(inputs.crossing_minute[u]) if inputs.crossing_minute is not None else -1)
    when = f" at {clock(crossing)}" if crossing >= 0 else ""
    why_user = (f"expected at {where}{when}; accepting is worth {effect:.2f} {UNITS[campaign.goal.kind]}; "
                f"{inputs.segments[inputs.segment[u]]} accept this offer {p[u, o]:.1%} of the time")
    if runner is None:
        why_offer = f"the only offer that fits this trip; {effect * p[u, o] / max(expected_cost, 1e-9) * 1000:.2f} " \
                    f"units per 1,000 expected yen"
    else:
        alt = campaign.catalogue[runner]
        why_offer = (f"{p[u, o] * effect:.3f} expected units for {expected_cost:.0f} expected yen, against "
                     f"{alt.offer_id}: {float(p[u, runner] * inputs.effect[u, runner]):.3f} for "
                     f"{float(p[u, runner] * alt.reward_yen):.0f}")
    return Decision(
        user=str(inputs.users[u]), segment=inputs.segments[inputs.segment[u]], offer=offer.offer_id,
        reward_yen=offer.reward_yen, acceptance_mean=round(float(mean_row[o]), 4),
        acceptance_sampled=round(float(p[u, o]), 4), effect=round(effect, 4),
        expected_effect=round(float(p[u, o] * effect), 4), expected_cost_yen=round(expected_cost, 2),
        effect_per_expected_yen=round(effect / offer.reward_yen, 6),
        runner_up=None if runner is None else campaign.catalogue[runner].offer_id,
        runner_up_expected_effect=0.0 if runner is None else round(float(p[u, runner] * inputs.effect[u, runner]), 4),
        why_user=why_user, why_offer=why_offer)
