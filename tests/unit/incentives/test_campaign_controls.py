"""Operators' controls on a running campaign: pause and resume, revisions of budget, guard, caps and validity,
each decided by the campaign service's core and rebuilt from its topics on restart; the ledger funds each
revision's change of guard so the campaign books and the ledger still agree."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import pytest

from services.campaign_audit import reconcile_with
from services.incentives.domain.revision import RevisionRefused, Terms, revise
from services.incentives.service import CAMPAIGNS, FORECASTS, OFFERS, REDEMPTIONS, RESPONSES, USERS, build_service
from services.incentives.settings import IncentiveSettings
from services.settlement.memory import InMemoryLedger
from services.settlement.service import build_service as settlement_service
from shared.bus.dispatch import deliver
from shared.contracts.incentives import (
    CampaignPaused,
    CampaignResumed,
    CampaignRevised,
    CampaignRevisionRefused,
    CampaignRevisionRequested,
    CampaignRoundPlanned,
    CampaignStopped,
    IncentiveOfferAnswered,
    RedemptionRequested,
    RewardRedeemed,
    TripExpected,
)

from .test_service import NOW, make_bus, seed

TERMS = Terms(daily_budget_yen=3_000, guard_yen=9_000, max_offers_per_user_per_day=2, pause_after_declines=3,
              valid_minutes=30)


def _round(bus) -> None:
    bus.tick()
    bus.run_until_idle()


def _rounds(bus) -> list[CampaignRoundPlanned]:
    return [e for e in bus.events(CAMPAIGNS) if isinstance(e, CampaignRoundPlanned)]


def _outcomes(bus) -> list[CampaignRevised | CampaignRevisionRefused]:
    return [e for e in bus.events(CAMPAIGNS) if isinstance(e, CampaignRevised | CampaignRevisionRefused)]


def _with_ledger(rounds: int = 1):
    """The seeded campaign with settlement writing an in-memory ledger, after ``rounds`` rounds."""
    bus, core = make_bus()
    ledger = InMemoryLedger()
    bus.add(settlement_service(ledger))
    seed(bus)
    for _ in range(rounds):
        _round(bus)
    return bus, core, ledger


def _revise(bus, request_id: str, **changes) -> CampaignRevised | CampaignRevisionRefused:
    bus.publish(CAMPAIGNS, CampaignRevisionRequested(request_id=request_id, campaign_id="gates-pm", **changes))
    bus.run_until_idle()
    return next(e for e in _outcomes(bus) if e.request_id == request_id)


# --------------------------------------------------------------------------- the rules, pure


def test_a_revision_changes_only_what_it_names() -> None:
    new = revise(TERMS, {"daily_budget_yen": 4_000, "valid_minutes": 12}, 100.0, 900)
    assert new == Terms(4_000, 9_000, 2, 3, 12)


@pytest.mark.parametrize("changes,field,rule", [
    ({"daily_budget_yen": 1_000}, "daily_budget_yen", "cannot be lowered below the 1,201 yen already committed"),
    ({"guard_yen": 2_000}, "guard_yen", "cannot be lowered below the 2,500 yen the campaign could owe now"),
    ({"daily_budget_yen": 10_000}, "daily_budget_yen", "must be at least the daily budget"),
    ({"guard_yen": 2_800}, "guard_yen", "the guard (2,800 yen) must be at least the daily budget (3,000 yen)"),
    ({"max_offers_per_user_per_day": 60}, "max_offers_per_user_per_day", "must be 1..50"),
    ({"shift_min": 3}, "shift_min", "is not a term a revision may change"),
])
def test_a_revision_that_breaks_a_rule_names_the_field_and_the_rule(changes, field, rule) -> None:
    with pytest.raises(RevisionRefused) as refused:
        revise(TERMS, changes, 1_200.4, 2_500)
    assert refused.value.field == field and rule in refused.value.rule


def test_the_budget_may_fall_to_exactly_what_is_committed() -> None:
    assert revise(TERMS, {"daily_budget_yen": 1_201, "guard_yen": 2_500}, 1_200.4, 2_500).guard_yen == 2_500


# --------------------------------------------------------------------------- pause and resume


def test_a_paused_campaign_plans_no_rounds_and_its_offers_stay_redeemable() -> None:
    bus, core = make_bus()
    seed(bus)
    _round(bus)
    first = len(bus.events(OFFERS))
    assert first and len(_rounds(bus)) == 1
    bus.publish(CAMPAIGNS, CampaignPaused(campaign_id="gates-pm", reason="event at the east deck"))
    bus.run_until_idle()
    core.campaigns["gates-pm"].next_round = None  # the round interval has passed
    _round(bus)
    assert len(bus.events(OFFERS)) == first and len(_rounds(bus)) == 1  # paused: no round, no offer
    accepted = next(a.offer_id for a in bus.events(RESPONSES) if isinstance(a, IncentiveOfferAnswered) and a.accepted)
    code = next(o.code for o in bus.events(OFFERS) if o.offer_id == accepted)
    bus.publish(REDEMPTIONS, RedemptionRequested(code=code, redeemer="cafe-1"))
    bus.run_until_idle()
    assert [r.offer_id for r in bus.events(REDEMPTIONS) if isinstance(r, RewardRedeemed)] == [accepted]


def test_resume_plans_rounds_again_and_a_stopped_campaign_stays_stopped() -> None:
    bus, core = make_bus()
    seed(bus)
    bus.publish(CAMPAIGNS, CampaignPaused(campaign_id="gates-pm"))
    bus.run_until_idle()
    _round(bus)
    assert _rounds(bus) == [] and bus.events(OFFERS) == []
    bus.publish(CAMPAIGNS, CampaignResumed(campaign_id="gates-pm"))
    bus.run_until_idle()
    _round(bus)
    assert len(_rounds(bus)) == 1 and bus.events(OFFERS)
    bus.publish(CAMPAIGNS, CampaignStopped(campaign_id="gates-pm"))
    bus.publish(CAMPAIGNS, CampaignResumed(campaign_id="gates-pm"))
    bus.run_until_idle()
    core.campaigns["gates-pm"].next_round = None
    _round(bus)
    assert len(_rounds(bus)) == 1


# --------------------------------------------------------------------------- revisions on the bus


def test_a_revision_is_decided_by_the_service_and_shapes_the_next_rounds() -> None:
    bus, core, ledger = _with_ledger()
    revised = _revise(bus, "rq-1", daily_budget_yen=4_000, guard_yen=12_000, valid_minutes=12)
    assert isinstance(revised, CampaignRevised)
    assert (revised.revision, revised.previous_guard_yen, revised.funding_change_yen) == (1, 9_000, 3_000)
    state = core.campaigns["gates-pm"]
    assert state.campaign.budget.daily_yen == 4_000 and state.budget.budget.guard_yen == 12_000
    assert state.event.valid_minutes == 12 and state.funded_yen == 12_000
    for i in range(20):  # more people, so the next round has someone to ask
        bus.publish(USERS, TripExpected(user=f"w{i}", segment="shopping", place="odakyu_gates",
                                        at=NOW + timedelta(minutes=20 + i)))
    bus.run_until_idle()
    state.next_round = None
    before = {o.offer_id for o in bus.events(OFFERS)}
    _round(bus)
    later = [o for o in bus.events(OFFERS) if o.offer_id not in before]
    assert later and all(o.expires_at - o.made_at == timedelta(minutes=12) for o in later)
    report = reconcile_with(core.books(), ledger)
    assert report.ok, report.lines()
    assert report.campaigns[0].ledger.funded_yen == 12_000


def test_a_revision_below_what_is_committed_is_refused_and_changes_nothing() -> None:
    bus, core, ledger = _with_ledger()
    state = core.campaigns["gates-pm"]
    worst = state.budget.worst_case_committed
    assert worst > 1
    refused = _revise(bus, "rq-low", guard_yen=worst - 1, daily_budget_yen=1)
    assert isinstance(refused, CampaignRevisionRefused) and refused.field == "daily_budget_yen"
    assert "already committed" in refused.reason
    refused = _revise(bus, "rq-guard", guard_yen=worst - 1)
    assert isinstance(refused, CampaignRevisionRefused) and refused.field in ("guard_yen", "daily_budget_yen")
    assert state.revision == 0 and state.funded_yen == 9_000 and state.campaign.budget.daily_yen == 3_000
    assert reconcile_with(core.books(), ledger).ok
    unknown = CampaignRevisionRequested(request_id="rq-x", campaign_id="nobody", guard_yen=5_000)
    bus.publish(CAMPAIGNS, unknown)
    bus.run_until_idle()
    assert next(e for e in _outcomes(bus) if e.request_id == "rq-x").field == "campaign_id"


def test_a_lower_guard_is_returned_to_the_sponsor_and_the_books_still_agree() -> None:
    bus, core, ledger = _with_ledger()
    worst = core.campaigns["gates-pm"].budget.worst_case_committed
    revised = _revise(bus, "rq-down", guard_yen=max(worst, 3_000))
    assert isinstance(revised, CampaignRevised) and revised.funding_change_yen < 0
    report = reconcile_with(core.books(), ledger)
    assert report.ok, report.lines()
    account = report.campaigns[0].ledger
    assert account.funded_yen == max(worst, 3_000) and account.balance_yen == account.funded_yen
    change = ledger.entry("campaign_fund", f"gates-pm:{revised.day.isoformat()}:r1")
    assert change is not None and change.body["fact"]["budget_sen"] == revised.funding_change_yen * 100
    assert ledger.verify().ok  # a negative change verifies: its legs follow from its fact


def test_requests_decided_before_either_is_read_back_stack_up() -> None:
    """Two requests in a row: the second is judged on top of the first (revision 2, its previous guard the
    first's), and a redelivered request repeats its decision instead of revising twice."""
    bus, core, ledger = _with_ledger(rounds=0)
    bus.publish(CAMPAIGNS, CampaignRevisionRequested(request_id="rq-a", campaign_id="gates-pm", guard_yen=10_000))
    bus.publish(CAMPAIGNS, CampaignRevisionRequested(request_id="rq-b", campaign_id="gates-pm", guard_yen=11_000))
    bus.run_until_idle()
    a, b = _outcomes(bus)
    assert (a.revision, a.previous_guard_yen, b.revision, b.previous_guard_yen) == (1, 9_000, 2, 10_000)
    bus.publish(CAMPAIGNS, CampaignRevisionRequested(request_id="rq-a", campaign_id="gates-pm", guard_yen=10_000))
    bus.run_until_idle()
    assert [o.revision for o in _outcomes(bus)] == [1, 2, 1]  # the same decision again, applied once
    state = core.campaigns["gates-pm"]
    assert state.revision == 2 and state.funded_yen == 11_000
    assert reconcile_with(core.books(), ledger).ok


def test_a_stopped_campaign_is_not_revised() -> None:
    bus, _core = make_bus()
    seed(bus)
    bus.publish(CAMPAIGNS, CampaignStopped(campaign_id="gates-pm"))
    bus.run_until_idle()
    refused = _revise(bus, "rq-s", daily_budget_yen=4_000)
    assert isinstance(refused, CampaignRevisionRefused) and "stopped" in refused.reason


# --------------------------------------------------------------------------- restart


def _replayed(bus) -> object:
    """A fresh service fed the bus's log as a restart replays it: topic by topic, outputs thrown away."""
    service = build_service(IncentiveSettings(round_seconds=60, horizon_minutes=120, seed=1),
                            clock=bus.clock)
    for topic in (CAMPAIGNS, USERS, FORECASTS, OFFERS, RESPONSES, REDEMPTIONS):
        for raw in bus.log.get(topic.name, []):
            deliver(service, topic.name, raw)
    return service


def _state(core) -> Iterable[object]:
    s = core.campaigns["gates-pm"]
    return (s.paused, s.stopped, s.revision, s.funded_yen, s.campaign, s.event, s.budget.paid_yen,
            round(s.budget.expected_committed, 6), s.budget.worst_case_committed)


def test_pauses_and_revisions_are_rebuilt_on_restart() -> None:
    """Replayed from its topics, the service is paused, on revision 2 with its budget, guard, caps and validity,
    its books the same; a revision refused before the restart stays refused (not judged again on books that
    are half rebuilt when the campaign topic is re-read), and a request redelivered after the restart gets the
    decision that was published."""
    bus, core, ledger = _with_ledger()
    worst = core.campaigns["gates-pm"].budget.worst_case_committed
    assert isinstance(_revise(bus, "rq-1", guard_yen=12_000, max_offers_per_user_per_day=1), CampaignRevised)
    assert isinstance(_revise(bus, "rq-2", guard_yen=worst - 1), CampaignRevisionRefused)
    assert isinstance(_revise(bus, "rq-3", daily_budget_yen=3_500, valid_minutes=20), CampaignRevised)
    bus.publish(CAMPAIGNS, CampaignPaused(campaign_id="gates-pm"))
    bus.run_until_idle()

    restarted = _replayed(bus).incentives
    assert tuple(_state(restarted)) == tuple(_state(core))
    assert restarted.campaigns["gates-pm"].campaign.caps.max_offers_per_user_per_day == 1
    assert restarted.books() == core.books()
    assert reconcile_with(restarted.books(), ledger).ok
    again = restarted.on_revision_requested(None, CampaignRevisionRequested(  # type: ignore[arg-type]
        request_id="rq-2", campaign_id="gates-pm", guard_yen=worst - 1))
    assert [type(o.payload).__name__ for o in again] == ["CampaignRevisionRefused"]
    again = restarted.on_revision_requested(None, CampaignRevisionRequested(  # type: ignore[arg-type]
        request_id="rq-3", campaign_id="gates-pm", daily_budget_yen=3_500, valid_minutes=20))
    assert [o.payload.revision for o in again] == [2]
    restarted.campaigns["gates-pm"].next_round = None
    assert [o for o in restarted.tick() if o.topic is OFFERS] == []  # still paused
