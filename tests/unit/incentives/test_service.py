"""The campaign service on the in-process bus: campaign in, offers out, answers back, estimates moved,
a code redeemed once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.incentives.service import CAMPAIGNS, FORECASTS, OFFERS, REDEMPTIONS, RESPONSES, USERS, build_service
from services.incentives.settings import IncentiveSettings
from shared.bus.inprocess import InProcessBus
from shared.contracts.crowd import CrowdForecastPublished
from shared.contracts.incentives import (
    CampaignLaunched,
    CampaignRoundPlanned,
    CatalogueOffer,
    IncentiveOfferMade,
    OffersPreference,
    RedemptionRefused,
    RedemptionRequested,
    RewardRedeemed,
    TripExpected,
)
from shared.runtime import Outgoing, Service
from simulator.live import answer_offer

NOW = datetime(2026, 12, 2, 6, 50, tzinfo=UTC).astimezone()  # 15:50 in Tokyo; the window below is around it


def responder() -> Service:
    """The simulated population answering offers with the choice model (as city-sim does)."""
    def on_offer(_envelope, payload: IncentiveOfferMade):
        if not isinstance(payload, IncentiveOfferMade):
            return []
        answer = answer_offer(payload, seed=3)
        return [Outgoing(RESPONSES, answer)] if answer else []
    return Service("responder", {OFFERS: {IncentiveOfferMade: on_offer}})


def launch(**changes) -> CampaignLaunched:
    tokyo = NOW.astimezone(IncentiveSettings().zone)
    fields = dict(campaign_id="gates-pm", operator="ebina-station-area", day=tokyo.date(), goal_kind="cut_load",
                  place="odakyu_gates", window=("16:00", "17:00"), share=0.1, daily_budget_yen=3_000, guard_yen=9_000,
                  offers=(CatalogueOffer(offer_id="early30", kind="shift_earlier", reward_yen=100, shift_min=30),
                          CatalogueOffer(offer_id="late30", kind="shift_later", reward_yen=200, shift_min=30)),
                  quiet_hours=("23:00", "05:00"))
    fields.update(changes)
    return CampaignLaunched(**fields)


def make_bus(clock=lambda: NOW):
    svc = build_service(IncentiveSettings(round_seconds=60, horizon_minutes=120, seed=1), clock=clock)
    return InProcessBus([svc, responder()]), svc.incentives


def seed(bus, users: int = 60) -> None:
    bus.publish(CAMPAIGNS, launch())
    day0 = datetime.combine(NOW.astimezone(IncentiveSettings().zone).date(), datetime.min.time(),
                            IncentiveSettings().zone)
    bus.publish(FORECASTS, CrowdForecastPublished(zone="odakyu_gates", day=day0.date(),
                                                  persons=tuple(100 + (m % 7) * 10 for m in range(1440))))
    for i in range(users):
        bus.publish(USERS, TripExpected(user=f"u{i}", segment=("commute_out", "shopping")[i % 2],
                                        place="odakyu_gates", at=NOW + timedelta(minutes=15 + i % 40)))
    bus.publish(USERS, OffersPreference(user="u0", opted_out=True))
    bus.run_until_idle()


def test_round_sends_offers_and_answers_update_the_estimates() -> None:
    bus, core = make_bus()
    seed(bus)
    bus.tick()
    bus.run_until_idle()
    offers = bus.events(OFFERS)
    answers = bus.events(RESPONSES)
    assert offers and len(answers) == len(offers)
    assert "u0" not in {o.user for o in offers}
    assert all(o.code and o.why_user and o.expected_effect is not None for o in offers)
    state = core.campaigns["gates-pm"]
    assert state.estimates.answers().sum() == 20.0 * state.estimates.answers().size + len(answers)
    assert sum(o.acceptance * o.reward_yen for o in offers) <= 3_000 + 1e-6
    assert sum(o.reward_yen for o in offers) <= 9_000
    planned = [e for e in bus.events(CAMPAIGNS) if isinstance(e, CampaignRoundPlanned)]
    assert planned and planned[0].offers == len(offers)


def test_a_code_is_redeemed_once() -> None:
    bus, core = make_bus()
    seed(bus)
    bus.tick()
    bus.run_until_idle()
    accepted = {a.offer_id for a in bus.events(RESPONSES) if getattr(a, "accepted", False)}
    offer = next(o for o in bus.events(OFFERS) if o.offer_id in accepted)
    for redeemer in ("cafe-1", "cafe-1", "cafe-2"):
        bus.publish(REDEMPTIONS, RedemptionRequested(code=offer.code, redeemer=redeemer))
    bus.run_until_idle()
    results = [e for e in bus.events(REDEMPTIONS) if isinstance(e, RewardRedeemed | RedemptionRefused)]
    paid = [e for e in results if isinstance(e, RewardRedeemed)]
    refused = [e for e in results if isinstance(e, RedemptionRefused)]
    assert {e.offer_id for e in paid} == {offer.offer_id}  # a repeated request repeats the same payment
    assert len(refused) == 1 and "already redeemed by cafe-1" in refused[0].reason
    assert core.campaigns["gates-pm"].budget.paid_yen == offer.reward_yen


def test_unknown_segment_is_dead_lettered() -> None:
    bus, _ = make_bus()
    bus.publish(USERS, TripExpected(user="x", segment="tourists", place="odakyu_gates", at=NOW))
    bus.run_until_idle()
    assert "segment" in bus.dead_letters[USERS.name][0].reason
