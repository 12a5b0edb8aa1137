"""A read model of incentive campaigns for the operators' dashboard: budget planned against spent, offers sent,
accepted and redeemed, and the load they remove.

It follows the campaign topics (``incentives.campaigns``, ``.offers``, ``.responses``, ``.redemptions``) from
their beginning and counts, per campaign:

- **planned**: the daily budget (the expected spend it may reach) and the guard (what its account is funded
  with);
- **spent, expected**: what the offers sent are expected to cost (acceptance x reward, summed as planned by the
  rounds) and what is committed now (rewards paid, accepted offers at face value, open offers at their
  acceptance), the same count the campaign service budgets with;
- **spent, realised**: rewards paid on redemption;
- **load removed** (goal units: one crossing of an average minute of the goal's window): expected from the
  offers sent (acceptance x effect), and from the offers accepted (their whole effect);
- **state**: running, paused or stopped, and the terms as last revised (budget, guard, caps, validity), with
  the latest revision decision (revised, or refused with the field and the rule).

The ledger's side (funding, rewards, balance of ``campaign:<id>``) is joined by the route. The goal place's
live load beside the simulator's counterfactual comes from the crowd topics
(:mod:`services.gateway.campaign_curves`), followed by the same feed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Protocol

from services.gateway.bus_feed import BusCatchUp
from services.gateway.campaign_curves import TOPICS as CURVE_TOPICS
from services.gateway.campaign_curves import CrowdCurves
from services.gateway.topic_feed import KafkaTopicFeed
from shared.bus.inprocess import InProcessBus
from shared.contracts import incentives as inc

TOPICS = (inc.CAMPAIGNS, inc.OFFERS, inc.RESPONSES, inc.REDEMPTIONS)


CampaignState = Literal["running", "paused", "stopped"]


class CampaignReader(Protocol):
    def summaries(self) -> list[dict[str, Any]]: ...
    def summary(self, campaign_id: str) -> dict[str, Any] | Literal["unknown"] | None:
        """One campaign's summary; ``None`` when the read model knows there is no such campaign, ``"unknown"``
        when it cannot tell (no feed, or one still catching up)."""
    def revision_outcome(self, request_id: str) -> inc.CampaignRevised | inc.CampaignRevisionRefused | None: ...
    def curve(self, campaign_id: str) -> dict[str, Any] | Literal["unknown"] | None:
        """The goal place's live load beside the counterfactual on the campaign's day (as :meth:`summary`)."""
    def close(self) -> None: ...


def campaign_curve(summary: dict[str, Any] | Literal["unknown"] | None,
                   curves: CrowdCurves) -> dict[str, Any] | Literal["unknown"] | None:
    """The curve of the campaign ``summary`` speaks of: its goal place, its day and window."""
    if not isinstance(summary, dict):
        return summary
    goal = summary["goal"]
    found = curves.curve(goal["place"], date.fromisoformat(summary["day"]), tuple(goal["window"]))
    return {"campaign_id": summary["campaign_id"], "goal_kind": goal["kind"], "goal_share": goal["share"],
            "load_removed": summary["load_removed"], **found}


@dataclass
class CampaignTally:
    """The counts, folded from the topics' events in any order (an answer may be read before its offer)."""

    launched: dict[str, inc.CampaignLaunched] = field(default_factory=dict)
    stopped: set[str] = field(default_factory=set)
    offers: dict[str, inc.IncentiveOfferMade] = field(default_factory=dict)
    answers: dict[str, bool] = field(default_factory=dict)
    expired: set[str] = field(default_factory=set)
    redeemed: dict[str, int] = field(default_factory=dict)
    rounds: dict[str, list[inc.CampaignRoundPlanned]] = field(default_factory=dict)
    paused: set[str] = field(default_factory=set)
    revised: dict[str, inc.CampaignRevised] = field(default_factory=dict)  # the revision applied last
    outcomes: dict[str, inc.CampaignRevised | inc.CampaignRevisionRefused] = field(default_factory=dict)
    latest_outcome: dict[str, inc.CampaignRevised | inc.CampaignRevisionRefused] = field(default_factory=dict)

    def add(self, payload: object) -> None:
        if isinstance(payload, inc.CampaignLaunched):
            self.launched.setdefault(payload.campaign_id, payload)
        elif isinstance(payload, inc.CampaignStopped):
            self.stopped.add(payload.campaign_id)
        elif isinstance(payload, inc.CampaignPaused):
            self.paused.add(payload.campaign_id)
        elif isinstance(payload, inc.CampaignResumed):
            self.paused.discard(payload.campaign_id)
        elif isinstance(payload, inc.CampaignRevised | inc.CampaignRevisionRefused):
            self._decided(payload)
        elif isinstance(payload, inc.CampaignRoundPlanned):
            self.rounds.setdefault(payload.campaign_id, []).append(payload)
        elif isinstance(payload, inc.IncentiveOfferMade):
            if payload.campaign:
                self.offers.setdefault(payload.offer_id, payload)
        elif isinstance(payload, inc.IncentiveOfferAnswered):
            self.answers.setdefault(payload.offer_id, payload.accepted)  # the first answer stands
        elif isinstance(payload, inc.IncentiveOfferExpired):
            self.expired.add(payload.offer_id)
        elif isinstance(payload, inc.RewardRedeemed):
            self.redeemed.setdefault(payload.offer_id, payload.reward_yen)  # paid once per offer

    def _decided(self, payload: inc.CampaignRevised | inc.CampaignRevisionRefused) -> None:
        """As the campaign service applies them: the first decision of each revision number counts."""
        if payload.request_id in self.outcomes:
            return
        if isinstance(payload, inc.CampaignRevised):
            applied = self.revised.get(payload.campaign_id)
            if applied is not None and payload.revision <= applied.revision:
                payload = inc.CampaignRevisionRefused(
                    request_id=payload.request_id, campaign_id=payload.campaign_id, field="body",
                    reason=f"revision {payload.revision} was already made by another request; ask again")
            else:
                self.revised[payload.campaign_id] = payload
        self.outcomes[payload.request_id] = payload
        self.latest_outcome[payload.campaign_id] = payload

    def state(self, cid: str) -> CampaignState:
        return "stopped" if cid in self.stopped else "paused" if cid in self.paused else "running"

    def summaries(self) -> list[dict[str, Any]]:
        by_campaign = self._offers_by_campaign()
        return [self._summary(cid, by_campaign.get(cid, [])) for cid in sorted(self.launched)]

    def summary(self, cid: str) -> dict[str, Any] | None:
        if cid not in self.launched:
            return None
        return self._summary(cid, self._offers_by_campaign().get(cid, []))

    def _offers_by_campaign(self) -> dict[str, list[inc.IncentiveOfferMade]]:
        by_campaign: dict[str, list[inc.IncentiveOfferMade]] = {}
        for offer in self.offers.values():
            by_campaign.setdefault(offer.campaign or "", []).append(offer)
        return by_campaign

    def _summary(self, cid: str, offers: list[inc.IncentiveOfferMade]) -> dict[str, Any]:
        launch = self.launched[cid]
        revised = self.revised.get(cid)
        terms: Any = revised or launch  # the terms as last revised: the same field names on both
        outcome = self.latest_outcome.get(cid)
        accepted = [o for o in offers if self.answers.get(o.offer_id) is True or o.offer_id in self.redeemed]
        declined = [o for o in offers if self.answers.get(o.offer_id) is False]
        redeemed = [o for o in offers if o.offer_id in self.redeemed]
        expired = [o for o in offers if o.offer_id in self.expired and o.offer_id not in self.answers
                   and o.offer_id not in self.redeemed]
        closed = {o.offer_id for o in accepted} | {o.offer_id for o in declined} | {o.offer_id for o in expired}
        open_ = [o for o in offers if o.offer_id not in closed]
        paid = sum(self.redeemed[o.offer_id] for o in redeemed)
        accepted_unpaid = sum(o.reward_yen for o in accepted if o.offer_id not in self.redeemed)
        committed = paid + accepted_unpaid + sum((o.acceptance or 0.0) * o.reward_yen for o in open_)
        worst = paid + accepted_unpaid + sum(o.reward_yen for o in open_)
        rounds = self.rounds.get(cid, [])
        return {
            "campaign_id": cid, "operator": launch.operator, "day": launch.day.isoformat(),
            "goal": {"kind": launch.goal_kind, "place": launch.place, "window": list(launch.window),
                     "share": launch.share, "focus": launch.focus},
            "stopped": cid in self.stopped, "state": self.state(cid),
            "revision": revised.revision if revised else 0,
            "terms": {"max_offers_per_user_per_day": terms.max_offers_per_user_per_day,
                      "pause_after_declines": terms.pause_after_declines, "valid_minutes": terms.valid_minutes},
            "last_revision": None if outcome is None else _outcome_json(outcome),
            "budget": {"planned_yen": terms.daily_budget_yen, "guard_yen": terms.guard_yen,
                       "expected_planned_yen": round(sum(o.expected_cost_yen or 0.0 for o in offers), 2),
                       "expected_committed_yen": round(committed, 2), "worst_case_committed_yen": worst,
                       "realised_yen": paid,
                       "realised_share_of_planned": round(paid / terms.daily_budget_yen, 4)},
            "offers": {"sent": len(offers), "accepted": len(accepted), "declined": len(declined),
                       "expired": len(expired), "open": len(open_), "redeemed": len(redeemed)},
            "load_removed": {"expected": round(sum(o.expected_effect or 0.0 for o in offers), 3),
                             "accepted": round(sum(_effect(o) for o in accepted), 3)},
            "rounds": len(rounds), "last_round_at": rounds[-1].round_at.isoformat() if rounds else None,
            "worst_round_gap": max((r.gap for r in rounds), default=0.0),
        }


def _outcome_json(outcome: inc.CampaignRevised | inc.CampaignRevisionRefused) -> dict[str, Any]:
    if isinstance(outcome, inc.CampaignRevised):
        return {"request_id": outcome.request_id, "status": "revised", "revision": outcome.revision}
    return {"request_id": outcome.request_id, "status": "refused", "field": outcome.field, "reason": outcome.reason}


def _effect(offer: inc.IncentiveOfferMade) -> float:
    """The whole effect of an accepted offer: its expected effect over the acceptance it was planned with."""
    if not offer.expected_effect or not offer.acceptance:
        return 0.0
    return offer.expected_effect / offer.acceptance


class KafkaCampaignFeed(KafkaTopicFeed):
    """Follows the campaign topics (``topic_feed``: no consumer group, from their beginning, resumes after an
    outage). ``also``: other read models of the same topics (the app's offer book), folded from the same
    records, so the gateway reads the campaign topics once."""

    def __init__(self, bootstrap: str, retry_s: float = 0.5,
                 also: Sequence[Callable[[Any], None]] = ()) -> None:
        super().__init__(bootstrap, TOPICS + CURVE_TOPICS, "campaign-feed", retry_s)
        self._tally = CampaignTally()
        self._curves = CrowdCurves()
        self._also = tuple(also)

    def fold(self, payload: Any) -> None:
        self._tally.add(payload)
        self._curves.add(payload)
        for apply in self._also:
            apply(payload)

    def summaries(self) -> list[dict[str, Any]]:
        with self._lock:
            return self._tally.summaries()

    def summary(self, campaign_id: str) -> dict[str, Any] | Literal["unknown"] | None:
        with self._lock:
            found = self._tally.summary(campaign_id)
        return "unknown" if found is None and not self.caught_up.is_set() else found

    def revision_outcome(self, request_id: str) -> inc.CampaignRevised | inc.CampaignRevisionRefused | None:
        with self._lock:
            return self._tally.outcomes.get(request_id)

    def curve(self, campaign_id: str) -> dict[str, Any] | Literal["unknown"] | None:
        return campaign_curve(self.summary(campaign_id), self._curves)


class BusCampaigns:
    """The same read model over the in-process bus (demo, tests)."""

    def __init__(self, bus: InProcessBus) -> None:
        self.bus = bus
        self._curves = CrowdCurves()
        self._curves_caught_up = BusCatchUp(bus, CURVE_TOPICS, self._curves.add)

    def _tally(self) -> CampaignTally:
        tally = CampaignTally()
        for topic in TOPICS:
            for payload in self.bus.events(topic):
                tally.add(payload)
        return tally

    def summaries(self) -> list[dict[str, Any]]:
        return self._tally().summaries()

    def summary(self, campaign_id: str) -> dict[str, Any] | Literal["unknown"] | None:
        return self._tally().summary(campaign_id)

    def revision_outcome(self, request_id: str) -> inc.CampaignRevised | inc.CampaignRevisionRefused | None:
        return self._tally().outcomes.get(request_id)

    def curve(self, campaign_id: str) -> dict[str, Any] | Literal["unknown"] | None:
        self._curves_caught_up()
        return campaign_curve(self.summary(campaign_id), self._curves)

    def close(self) -> None:
        return None


class NoCampaigns:
    """No feed: no campaigns to list, and nothing known of any one campaign."""

    def summaries(self) -> list[dict[str, Any]]:
        return []

    def summary(self, campaign_id: str) -> dict[str, Any] | Literal["unknown"] | None:
        return "unknown"

    def revision_outcome(self, request_id: str) -> inc.CampaignRevised | inc.CampaignRevisionRefused | None:
        return None

    def curve(self, campaign_id: str) -> dict[str, Any] | Literal["unknown"] | None:
        return "unknown"

    def close(self) -> None:
        return None
