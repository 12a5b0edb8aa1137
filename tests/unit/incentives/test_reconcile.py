"""The campaign service's books against the ledger's campaign accounts: they agree after a real day of offers
and redemptions on the in-process bus (settlement writing the in-memory ledger), and each kind of difference
is found and named per campaign."""

from __future__ import annotations

from datetime import UTC, datetime

from services.campaign_audit import main as campaigns_main
from services.campaign_audit import reconcile_with
from services.incentives.domain.reconcile import CampaignBooks, LedgerAccount, reconcile_campaigns
from services.incentives.service import CAMPAIGNS, OFFERS, REDEMPTIONS, RESPONSES
from services.settlement.domain.kinds.payments import payment_draft
from services.settlement.domain.kinds.reward import REWARD, Reward
from services.settlement.memory import InMemoryLedger
from services.settlement.service import build_service as settlement_service
from shared.contracts.incentives import IncentiveOfferAnswered, RedemptionRequested, RewardRedeemed

from .test_service import launch, make_bus, seed


def _day_with_redemptions():
    bus, core = make_bus()
    ledger = InMemoryLedger()
    bus.add(settlement_service(ledger))
    seed(bus)
    bus.tick()
    bus.run_until_idle()
    accepted = [a.offer_id for a in bus.events(RESPONSES) if isinstance(a, IncentiveOfferAnswered) and a.accepted]
    assert len(accepted) >= 2, "the choice model should accept a few of the offers"
    codes = {o.offer_id: o.code for o in bus.events(OFFERS)}
    for offer_id in accepted[:2]:
        bus.publish(REDEMPTIONS, RedemptionRequested(code=codes[offer_id], redeemer="cafe-1"))
    bus.run_until_idle()
    return bus, core, ledger


def test_books_and_ledger_agree_after_a_day_of_rewards() -> None:
    _bus, core, ledger = _day_with_redemptions()
    report = reconcile_with(core.books(), ledger)
    assert report.ok, report.lines()
    (check,) = report.campaigns
    assert check.service is not None and check.ledger is not None
    assert check.service.paid_yen == check.ledger.rewards_yen > 0
    assert check.ledger.funded_yen == 9_000 and check.ledger.balance_yen == 9_000 - check.ledger.rewards_yen
    assert len(check.service.paid_offers) == 2


def test_a_reward_the_service_never_paid_is_named() -> None:
    """A reward on the ledger for an offer the campaign service did not see redeemed (e.g. written by hand):
    the campaign is flagged, with the amounts on both sides and the offer's id."""
    bus, core, ledger = _day_with_redemptions()
    paid = {r.offer_id for r in bus.events(REDEMPTIONS) if isinstance(r, RewardRedeemed)}
    stray = next(o for o in bus.events(OFFERS) if o.offer_id not in paid)
    at = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    ledger.record([payment_draft(REWARD, Reward(stray.code, stray.offer_id, "gates-pm", stray.user,
                                                stray.reward_yen * 100, "cafe-9", at), at)])
    report = reconcile_with(core.books(), ledger)
    assert not report.ok and [c.campaign_id for c in report.mismatched] == ["gates-pm"]
    text = "\n".join(report.mismatched[0].mismatches)
    assert "rewards: the campaign service paid" in text
    assert f"rewards on the ledger for offers the campaign service never paid: 1 ({stray.offer_id})" in text
    assert "BAD gates-pm" in "\n".join(report.lines())


def test_a_reward_missing_from_the_ledger_and_a_campaign_never_funded_are_named() -> None:
    """The campaign service redeemed an offer whose reward never reached the ledger (the settlement did not see
    it), and a second campaign was launched while settlement was not listening (no account at all): both are
    named, the first with the offer's id."""
    bus, core, ledger = _day_with_redemptions()
    paid = {r.offer_id for r in bus.events(REDEMPTIONS) if isinstance(r, RewardRedeemed)}
    accepted = [a.offer_id for a in bus.events(RESPONSES) if isinstance(a, IncentiveOfferAnswered) and a.accepted]
    lost = next(o for o in bus.events(OFFERS) if o.offer_id in set(accepted) - paid)
    # the service's own handler, not the bus: settlement never reads this redemption
    core.on_reward(None, RewardRedeemed(  # type: ignore[arg-type]
        code=lost.code, offer_id=lost.offer_id, campaign_id="gates-pm", operator="ebina-station-area",
        user=lost.user, reward_yen=lost.reward_yen, redeemer="cafe-1", at=datetime(2026, 12, 2, 7, tzinfo=UTC)))
    core.on_launched(None, launch(campaign_id="unfunded"))  # type: ignore[arg-type]
    report = reconcile_with(core.books(), ledger)
    assert {c.campaign_id for c in report.mismatched} == {"gates-pm", "unfunded"}
    by_id = {c.campaign_id: "\n".join(c.mismatches) for c in report.mismatched}
    assert (f"offers paid by the campaign service with no reward on the ledger: 1 ({lost.offer_id})"
            in by_id["gates-pm"])
    assert "ledger holds no campaign account" in by_id["unfunded"]


def test_funding_balance_and_overcommitment_differences() -> None:
    books = {"c1": CampaignBooks("c1", "op", "2026-12-02", funded_yen=9_000, daily_yen=3_000, paid_yen=300,
                                 paid_offers={"o1": 300}, accepted_unpaid_yen=0, expected_committed_yen=2_000.0,
                                 worst_case_committed_yen=9_500)}
    accounts = [LedgerAccount("c1", funded_yen=6_000, rewards_yen=300, balance_yen=5_000, rewards={"o1": 300}),
                LedgerAccount("old", funded_yen=1_000, rewards_yen=0, balance_yen=1_000, rewards={}),
                LedgerAccount("ghost", funded_yen=1_000, rewards_yen=0, balance_yen=1_000, rewards={})]
    report = reconcile_campaigns(books, accounts, since_day="2026-12-01",
                                 funded_days={"c1": ["2026-12-02"], "old": ["2026-11-20"], "ghost": ["2026-12-02"]})
    assert report.not_compared == ("old",)
    text = {c.campaign_id: "\n".join(c.mismatches) for c in report.campaigns}
    assert "funding: the ledger holds 6,000 yen, the campaign was launched with a guard of 9,000 yen" in text["c1"]
    assert "committed 9,500 yen at face value, more than the 6,000 yen" in text["c1"]
    assert "balance 5,000 yen is not funding minus rewards (5,700 yen)" in text["c1"]
    assert "a campaign the campaign service does not know" in text["ghost"]


def test_cli_needs_a_ledger_and_a_broker() -> None:
    assert campaigns_main(["reconcile", "--database-url", "", "--kafka", ""]) == 2
    assert campaigns_main(["reconcile", "--database-url", "sqlite:///x", "--kafka", "b:1", "--days", "0"]) == 2


def test_topics_are_the_services_own() -> None:
    """The books are rebuilt from the topics the service replays at start-up, in its order."""
    from services.incentives.adapters.books import TOPICS

    assert TOPICS == (CAMPAIGNS, OFFERS, RESPONSES, REDEMPTIONS)
