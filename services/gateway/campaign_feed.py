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
  offers sent (acceptance x effect), and from the offers accepted (their whole effect).

The ledger's side (funding, rewards, balance of ``campaign:<id>``) is joined by the route.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from services.gateway.topic_feed import KafkaTopicFeed
from shared.bus.inprocess import InProcessBus
from shared.contracts import incentives as inc

TOPICS = (inc.CAMPAIGNS, inc.OFFERS, inc.RESPONSES, inc.REDEMPTIONS)


class CampaignReader(Protocol):
    def summaries(self) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...


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

    def add(self, payload: object) -> None:
        if isinstance(payload, inc.CampaignLaunched):
            self.launched.setdefault(payload.campaign_id, payload)
        elif isinstance(payload, inc.CampaignStopped):
            self.stopped.add(payload.campaign_id)
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

    def summaries(self) -> list[dict[str, Any]]:
        by_campaign: dict[str, list[inc.IncentiveOfferMade]] = {}
        for offer in self.offers.values():
            by_campaign.setdefault(offer.campaign or "", []).append(offer)
        return [self._summary(cid, by_campaign.get(cid, [])) for cid in sorted(self.launched)]

    def _summary(self, cid: str, offers: list[inc.IncentiveOfferMade]) -> dict[str, Any]:
        launch = self.launched[cid]
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
            "stopped": cid in self.stopped,
            "budget": {"planned_yen": launch.daily_budget_yen, "guard_yen": launch.guard_yen,
                       "expected_planned_yen": round(sum(o.expected_cost_yen or 0.0 for o in offers), 2),
                       "expected_committed_yen": round(committed, 2), "worst_case_committed_yen": worst,
                       "realised_yen": paid,
                       "realised_share_of_planned": round(paid / launch.daily_budget_yen, 4)},
            "offers": {"sent": len(offers), "accepted": len(accepted), "declined": len(declined),
                       "expired": len(expired), "open": len(open_), "redeemed": len(redeemed)},
            "load_removed": {"expected": round(sum(o.expected_effect or 0.0 for o in offers), 3),
                             "accepted": round(sum(_effect(o) for o in accepted), 3)},
            "rounds": len(rounds), "last_round_at": rounds[-1].round_at.isoformat() if rounds else None,
            "worst_round_gap": max((r.gap for r in rounds), default=0.0),
        }


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
        super().__init__(bootstrap, TOPICS, "campaign-feed", retry_s)
        self._tally = CampaignTally()
        self._also = tuple(also)

    def fold(self, payload: Any) -> None:
        self._tally.add(payload)
        for apply in self._also:
            apply(payload)

    def summaries(self) -> list[dict[str, Any]]:
        with self._lock:
            return self._tally.summaries()


class BusCampaigns:
    """The same read model over the in-process bus (demo, tests)."""

    def __init__(self, bus: InProcessBus) -> None:
        self.bus = bus

    def summaries(self) -> list[dict[str, Any]]:
        tally = CampaignTally()
        for topic in TOPICS:
            for payload in self.bus.events(topic):
                tally.add(payload)
        return tally.summaries()

    def close(self) -> None:
        return None


class NoCampaigns:
    def summaries(self) -> list[dict[str, Any]]:
        return []

    def close(self) -> None:
        return None
