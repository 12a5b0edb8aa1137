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
    return InProcessBus([svc, responder()], clock=clock), svc.incentives


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


def _round_for(goal_kind: str, place: str, offers, trips, avoidable=frozenset()) -> list[IncentiveOfferMade]:
    """One round of a campaign of ``goal_kind`` at ``place`` (16:00-17:00 Tokyo) over the given (user, minutes
    from now) trips; the offers it sends."""
    svc = build_service(IncentiveSettings(round_seconds=60, horizon_minutes=120, seed=1), clock=lambda: NOW)
    bus = InProcessBus([svc])
    bus.publish(CAMPAIGNS, launch(campaign_id=f"{goal_kind}-pm", goal_kind=goal_kind, place=place, offers=offers,
                                  daily_budget_yen=50_000, guard_yen=150_000))
    for user, minutes in trips:
        bus.publish(USERS, TripExpected(user=user, segment="shopping", place=place,
                                        at=NOW + timedelta(minutes=minutes), avoidable=user in avoidable))
    bus.run_until_idle()
    bus.tick()
    bus.run_until_idle()
    return bus.events(OFFERS)


def test_a_footfall_campaign_invites_people_passing_in_the_window_and_shifts_the_others_into_it() -> None:
    """lift_footfall at a shopping centre: a coupon at its shop goes to people passing during the window (their
    stop is a visit added), a 'come 30 minutes later' offer to people passing just before it; nobody passing
    after the window gets anything (neither offer adds a visit in it)."""
    offers = (CatalogueOffer(offer_id="cafe", kind="coupon", reward_yen=100, shift_min=15, shop="vinawalk-cafe"),
              CatalogueOffer(offer_id="later30", kind="shift_later", reward_yen=100, shift_min=30))
    # NOW is 15:50 Tokyo: +20 min = 16:10 (inside), +0..5 = 15:50-15:55 (30 later lands inside), +80 = 17:10
    trips = [(f"in{i}", 20 + i) for i in range(5)] + [(f"before{i}", i) for i in range(5)] + \
            [(f"after{i}", 80 + i) for i in range(5)]
    sent = _round_for("lift_footfall", "vinawalk", offers, trips)
    by_user = {o.user: o.catalogue_offer for o in sent}
    assert by_user and all(by_user[u] == "cafe" for u in by_user if u.startswith("in"))
    assert all(by_user[u] == "later30" for u in by_user if u.startswith("before"))
    assert not [u for u in by_user if u.startswith("after")]
    assert all("visits added in the window" in o.why_user for o in sent)


def test_a_charger_campaign_moves_sessions_from_outside_the_pv_surplus_into_it() -> None:
    """fill_chargers at a charging site over the PV surplus window: the 'charge now' discount goes to drivers
    whose session is planned outside the window; sessions already inside get no offer."""
    offers = (CatalogueOffer(offer_id="charge-now", kind="ev_charge_now", reward_yen=200),)
    trips = [(f"outside{i}", 80 + i) for i in range(4)] + [(f"inside{i}", 20 + i) for i in range(4)]
    sent = _round_for("fill_chargers", "ebina-station-chargers", offers, trips)
    assert {o.user for o in sent} and all(o.user.startswith("outside") for o in sent)
    assert all(o.catalogue_offer == "charge-now" and "charging sessions moved" in o.why_user for o in sent)


def test_offers_stay_open_as_long_as_the_campaign_says() -> None:
    """The campaign's ``valid_minutes`` sets each offer's expiry (not a service-wide default)."""
    svc = build_service(IncentiveSettings(round_seconds=60, horizon_minutes=120, seed=1), clock=lambda: NOW)
    bus = InProcessBus([svc])
    bus.publish(CAMPAIGNS, launch(valid_minutes=12))
    for i in range(10):
        bus.publish(USERS, TripExpected(user=f"v{i}", segment="commute_out", place="odakyu_gates",
                                        at=NOW + timedelta(minutes=15 + i)))
    bus.run_until_idle()
    bus.tick()
    bus.run_until_idle()
    sent = bus.events(OFFERS)
    assert sent and all(o.expires_at - o.made_at == timedelta(minutes=12) for o in sent)
    record = svc.incentives.book.records[sent[0].offer_id]
    assert record.expires_minute - record.sent_minute == 12


def test_an_exit_offer_goes_only_to_trips_that_can_avoid_the_chokepoint() -> None:
    """cut_load with an 'use the east exit' offer beside a time shift: the exit offer goes only to people whose
    trip has a way around the gates; the others can still be asked to shift."""
    offers = (CatalogueOffer(offer_id="east-exit", kind="other_exit", reward_yen=100),
              CatalogueOffer(offer_id="early30", kind="shift_earlier", reward_yen=300, shift_min=30))
    trips = [(f"u{i}", 20 + i % 30) for i in range(30)]
    avoid = {f"u{i}" for i in range(0, 30, 2)}
    sent = _round_for("cut_load", "odakyu_gates", offers, trips, avoidable=avoid)
    exit_users = {o.user for o in sent if o.catalogue_offer == "east-exit"}
    assert exit_users and exit_users <= avoid


def test_a_goal_is_judged_on_its_own_days_forecast() -> None:
    """A forecast for another day (here an empty one for tomorrow, read last) does not replace the campaign
    day's: the round still finds load to cut and sends offers."""
    bus, _core = make_bus()
    seed(bus)
    (today,) = bus.events(FORECASTS)
    bus.publish(FORECASTS, CrowdForecastPublished(zone="odakyu_gates", day=today.day + timedelta(days=1),
                                                  persons=(0,) * 1440))
    bus.run_until_idle()
    bus.tick()
    bus.run_until_idle()
    assert bus.events(OFFERS)
