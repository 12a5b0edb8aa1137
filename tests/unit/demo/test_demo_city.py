"""The live demo's city stepped minute by minute: the same seed gives the same city, step for step (orders,
trades, offers, answers, redemptions), and in its first hours the market clears slots onto the ledger, the
day's campaign sends offers the simulated people answer, and shops redeem codes; an app user's offer (at the
evening peak) is left for the app user to answer."""

from __future__ import annotations

from datetime import date

from services.demo_city import DemoCity
from services.settlement.memory import InMemoryLedger
from shared.contracts import energy, incentives, mobility

APP_USER = "u-demo0001"
STEPS = 150  # 06:00 to 08:30: five slots cleared, the morning's rounds, the first codes redeemed


def _city(seed: int) -> tuple[DemoCity, InMemoryLedger]:
    ledger = InMemoryLedger()
    return DemoCity(ledger, day=date(2026, 5, 20), seed=seed, agents=1000, app_users=(APP_USER,)), ledger


def _fingerprint(city: DemoCity) -> dict[str, list]:
    bus = city.bus
    return {
        "orders": [(o.order_id, o.kwh, o.limit_price) for o in bus.events(energy.ORDERS)
                   if isinstance(o, energy.EnergyOrderPlaced)],
        "trades": [(t.trade_id, t.kwh, t.price) for t in bus.events(energy.TRADES)],
        "offers": [(o.offer_id, o.user, o.catalogue_offer, o.reward_yen, o.code)
                   for o in bus.events(incentives.OFFERS)],
        "answers": [(a.offer_id, getattr(a, "accepted", None)) for a in bus.events(incentives.RESPONSES)],
        "redemptions": [(type(r).__name__, r.code, r.redeemer) for r in bus.events(incentives.REDEMPTIONS)],
    }


def test_the_same_seed_gives_the_same_city_step_for_step() -> None:
    a, _ = _city(seed=7)
    b, _ = _city(seed=7)
    a.run(STEPS)
    b.run(STEPS)
    assert _fingerprint(a) == _fingerprint(b)
    assert vars(a.totals) == vars(b.totals)
    other, _ = _city(seed=8)
    other.run(STEPS)
    assert _fingerprint(other)["offers"] != _fingerprint(a)["offers"]
    for city in (a, b, other):
        city.close()


def test_the_first_hours_move_the_market_the_ledger_and_the_campaign() -> None:
    city, ledger = _city(seed=0)
    totals = city.run(STEPS)
    assert totals.minutes == STEPS and city.now.strftime("%H:%M") == "08:30"
    assert totals.slots_cleared >= 5 and totals.trades > 0 and totals.orders > 0
    assert len(ledger.slot_totals()) >= 2  # settled slot by slot
    assert totals.campaigns == 1 and totals.offers > 0 and totals.accepted > 0
    assert totals.redeemed > 0 and totals.rewards_yen > 0
    assert not city.bus.dead_letters
    assert city.bus.events(mobility.REQUESTS) == []  # no ride service on the demo's bus: no one would answer
    city.run(10 * 60)  # to 18:30: the app user's trip across the gates at the evening peak has had its offer
    mine = {o.offer_id for o in city.bus.events(incentives.OFFERS) if o.user == APP_USER}
    answered = {a.offer_id for a in city.bus.events(incentives.RESPONSES)
                if isinstance(a, incentives.IncentiveOfferAnswered)}
    assert mine and not mine & answered  # the app user answers in the app; the simulated people do not
    city.close()
