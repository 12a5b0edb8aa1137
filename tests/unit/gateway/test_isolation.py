"""One user never reaches another's data: Taro, signed in, tries Hanako's ids on every participant route.

The list of participant routes is taken from the app itself (every route with a bearer token outside
/v1/operator and /v1/auth), so a new route fails this test until it is covered here. Each answer is a 404
(ids that are not the caller's read as missing), a 422 (a body may not name someone else), or the caller's
own data; and no answer or event carries Hanako's id, username, trade or certificate.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from services.gateway.accounts.passwords import Passwords, cheap_hasher
from services.gateway.accounts.service import Accounts
from services.gateway.accounts.store import open_store
from services.gateway.app import create_app
from services.gateway.cars import BusCars
from services.gateway.offers import BusOffers
from services.gateway.publisher import BusPublisher
from services.gateway.rejections import BusRejections
from services.gateway.rides import BusRides
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus
from shared.contracts.charging import PLANS, EvPlanSubmitted, PlannedStay
from shared.contracts.energy import ORDERS, REJECTIONS, OrderRejected, TradeMatched
from shared.contracts.incentives import OFFERS, RESPONSES, IncentiveOfferMade
from shared.contracts.logistics import REQUESTS as PARCEL_REQUESTS
from shared.contracts.logistics import ParcelRequested
from shared.contracts.mobility import COOWNED, CoownedBookingRequested, RideRequested
from shared.contracts.mobility import REQUESTS as RIDE_REQUESTS
from shared.units import slot_start

from .conftest import SETTINGS

PASSWORD = "green-kWh-2026"
SLOT = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)


@pytest.fixture
def world(tmp_path):
    accounts = Accounts(open_store("sqlite://"), SETTINGS.token_secret, passwords=Passwords(cheap_hasher()))
    hanako = accounts.sign_up("hanako", PASSWORD)
    taro = accounts.sign_up("taro", PASSWORD)
    accounts.update_preferences(hanako.subject, {"home_area": "hanako-home-area"})
    ledger = open_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    for buyer, trade_id in ((hanako.subject, "t-hanako"), (taro.subject, "t-taro")):
        ledger.record_trade(TradeMatched(trade_id=trade_id, slot=SLOT, seller="pv-1", buyer=buyer,
                                         kwh=Decimal("1.000"), price=Decimal("15.00"), tier="B", renewable=True,
                                         seller_site="roof-1"))
    ledger.anchor_pending()
    bus = InProcessBus()
    bus.publish(REJECTIONS, OrderRejected(order_id="o-hanako", participant=hanako.subject, reason="late"))
    bus.publish(OFFERS, IncentiveOfferMade(offer_id="offer-for-hanako", user=hanako.subject, offer_type="other_exit",
                                           reward_yen=150, shop="hanako-shop", code="HANAKO-CODE"))
    bus.publish(PLANS, EvPlanSubmitted(
        vehicle="hanako-ev", participant=hanako.subject, battery_kwh=Decimal("40"), soc_kwh=Decimal("12"),
        max_charge_kw=Decimal("7"), stays=(PlannedStay(site="hanako-home-site", arrive=SLOT,
                                                        depart=SLOT + timedelta(hours=8), need_kwh=Decimal("30"),
                                                        trip_kwh=Decimal("6")),)))
    bus.publish(RIDE_REQUESTS, RideRequested(
        request_id="ride-of-hanako", rider=hanako.subject, origin_lat=35.4526, origin_lon=139.3908,
        destination_lat=35.4553, destination_lon=139.3892, earliest_pickup=SLOT,
        latest_arrival=SLOT + timedelta(hours=1)))
    bus.publish(PARCEL_REQUESTS, ParcelRequested(
        parcel_id="parcel-of-hanako", sender=hanako.subject, depot="lalaport", lat=35.45, lon=139.39,
        deliver_from=SLOT, deliver_until=SLOT + timedelta(hours=2), weight_kg=1.0, size_l=5.0))
    bus.publish(COOWNED, CoownedBookingRequested(
        booking_id="booking-of-hanako", group="ebina-kashiwa-ev", member=hanako.subject, car="ev-leaf", start=SLOT,
        end=SLOT + timedelta(hours=2)))
    app = create_app(SETTINGS, BusPublisher(bus), LedgerReader(ledger), rejections=BusRejections(bus),
                     accounts=accounts, offers=BusOffers(bus), cars=BusCars(bus), rides=BusRides(bus))
    client = TestClient(app)
    token = client.post("/v1/auth/token", data={"username": "taro", "password": PASSWORD}).json()["access_token"]
    return client, bus, hanako, taro, {"Authorization": f"Bearer {token}"}


def participant_routes(client) -> set[tuple[str, str]]:
    paths = client.app.openapi()["paths"]
    return {(method.upper(), path) for path, ops in paths.items() for method, op in ops.items()
            if op.get("security") and not path.startswith(("/v1/operator", "/v1/planner", "/v1/auth"))}


def future_slot() -> str:
    return (slot_start(datetime.now(UTC)) + timedelta(hours=3)).isoformat().replace("+00:00", "Z")


HANAKO_CERT = "REC-t-hanako"
# Each route with Hanako's ids (or a body naming her); what Taro may get back.
ATTEMPTS = {
    ("POST", "/v1/energy/orders"): lambda h: dict(json={"side": "buy", "slot": future_slot(), "kwh": "1",
                                                        "limit_price": "20", "participant": h}, expect={422}),
    ("POST", "/v1/energy/orders/batch"): lambda h: dict(json={"orders": [{
        "order_id": "o-taro-1", "side": "buy", "slot": future_slot(), "kwh": "1", "limit_price": "20",
        "participant": h}]}, expect={422}),
    ("DELETE", "/v1/energy/orders/{order_id}"): lambda h: dict(path="/v1/energy/orders/o-hanako",
                                                               params={"slot": future_slot()}, expect={202}),
    ("GET", "/v1/energy/trades"): lambda h: dict(expect={200}),
    ("GET", "/v1/energy/rejections"): lambda h: dict(expect={200}),
    ("GET", "/v1/ledger/statement"): lambda h: dict(expect={200}),
    ("GET", "/v1/ledger/balance"): lambda h: dict(expect={200}),
    ("GET", "/v1/ledger/certificates"): lambda h: dict(expect={200}),
    ("GET", "/v1/ledger/renewable-progress"): lambda h: dict(expect={200}),
    ("GET", "/v1/ledger/renewable-target"): lambda h: dict(params={"share": "0.5"}, expect={200}),
    ("GET", "/v1/ledger/certificates/{cert_id}/retirement"): lambda h: dict(
        path=f"/v1/ledger/certificates/{HANAKO_CERT}/retirement", expect={404}),
    ("POST", "/v1/ledger/certificates/{cert_id}/retire"): lambda h: dict(
        path=f"/v1/ledger/certificates/{HANAKO_CERT}/retire", json={"target": "taro-2026"}, expect={404}),
    ("GET", "/v1/ledger/proofs/trades/{trade_id}"): lambda h: dict(path="/v1/ledger/proofs/trades/t-hanako",
                                                                   expect={404}),
    ("GET", "/v1/ledger/proofs/certificates/{cert_id}"): lambda h: dict(
        path=f"/v1/ledger/proofs/certificates/{HANAKO_CERT}", expect={404}),
    ("GET", "/v1/ledger/proofs/entries/{kind}/{ref}"): lambda h: dict(
        path="/v1/ledger/proofs/entries/trade/t-hanako", expect={404}),
    ("POST", "/v1/campaigns/redemptions"): lambda h: dict(json={"code": "ABCD-1234", "redeemer": h}, expect={422}),
    ("POST", "/v1/app/offers/{offer_id}/answer"): lambda h: dict(path="/v1/app/offers/offer-for-hanako/answer",
                                                                  json={"accept": True}, expect={202}),
    ("POST", "/v1/app/trips"): lambda h: dict(json={"place": "ebina-station", "at": "2026-11-28T08:00:00+09:00",
                                                    "segment": "commute_in", "user": h}, expect={422}),
    ("POST", "/v1/app/offers/preference"): lambda h: dict(json={"opted_out": True, "user": h}, expect={422}),
    ("GET", "/v1/app/preferences"): lambda h: dict(expect={200}),
    ("GET", "/v1/app/offers"): lambda h: dict(expect={200}),
    ("GET", "/v1/app/cars"): lambda h: dict(expect={200}),
    ("PUT", "/v1/app/cars/{vehicle}/mode"): lambda h: dict(path="/v1/app/cars/hanako-ev/mode", json={"mode": "now"},
                                                          expect={404}),
    ("GET", "/v1/app/rides"): lambda h: dict(expect={200}),
    ("POST", "/v1/app/rides"): lambda h: dict(json={"origin": "jr_west", "destination": "vinawalk", "rider": h,
                                                    "earliest_pickup": future_slot(),
                                                    "latest_arrival": future_slot()}, expect={422}),
    ("GET", "/v1/app/deliveries"): lambda h: dict(expect={200}),
    ("GET", "/v1/app/coowned/bookings"): lambda h: dict(expect={200}),
    ("POST", "/v1/app/coowned/bookings"): lambda h: dict(json={"group": "ebina-kashiwa-ev", "member": h,
                                                               "start": future_slot(), "end": future_slot()},
                                                         expect={422}),
    ("GET", "/v1/app/offers/stream"): lambda h: dict(params={"seconds": "0.5"}, expect={200}),
    ("PATCH", "/v1/app/preferences"): lambda h: dict(json={"notifications": True, "account_id": h}, expect={422}),
}


def test_every_participant_route_is_tried():
    """The table above covers exactly the participant routes the gateway has."""
    accounts = Accounts(open_store("sqlite://"), SETTINGS.token_secret, passwords=Passwords(cheap_hasher()))
    app = create_app(SETTINGS, BusPublisher(InProcessBus()), LedgerReader(open_ledger("sqlite://")),
                     accounts=accounts)
    assert participant_routes(TestClient(app)) == set(ATTEMPTS)


def test_another_users_ids_get_404_or_nothing_of_theirs(world):
    client, bus, hanako, taro, headers = world
    secrets_of_hanako = [hanako.account_id, hanako.username, "t-hanako", HANAKO_CERT, "o-hanako", "hanako-home-area",
                         "hanako-shop", "HANAKO-CODE", "hanako-home-site", "ride-of-hanako",
                         "parcel-of-hanako", "booking-of-hanako"]
    for (method, template), make in ATTEMPTS.items():
        spec = make(hanako.subject)
        expect = spec.pop("expect")
        path = spec.pop("path", template)
        r = client.request(method, path, headers=headers, **spec)
        assert r.status_code in expect, (method, template, r.status_code, r.text)
        naming = ("participant", "user", "redeemer", "account_id", "rider", "member")
        sent = [hanako.subject] if any(k in str(spec) for k in naming) else []
        shown = r.text
        for value in secrets_of_hanako:
            if value in sent or value in path:
                continue  # Taro's own request may echo what he sent, never more
            assert value not in shown, (method, template, value, shown)
        if r.status_code == 404:
            assert hanako.subject not in r.json()["message"]
    # Everything Taro's requests put on the bus speaks for Taro, never for Hanako.
    assert len(bus.events(PLANS)) == 1  # Hanako's own plan only: Taro's mode change for her car went nowhere
    assert len(bus.events(RIDE_REQUESTS)) == 1  # Hanako's own request only: Taro's naming her was refused
    assert len(bus.events(COOWNED)) == 1  # Hanako's own booking only
    for topic in (ORDERS, RESPONSES):
        for event in bus.events(topic):
            who = getattr(event, "participant", None) or getattr(event, "user", None)
            assert who == taro.subject, (topic, event)


def test_the_same_routes_answer_taro_with_his_own(world):
    """The 404s above are about ownership: Taro's own trade, certificate and proofs are there."""
    client, _, _, _, headers = world
    assert [t["trade_id"] for t in client.get("/v1/energy/trades", headers=headers).json()] == ["t-taro"]
    assert client.get("/v1/ledger/proofs/trades/t-taro", headers=headers).status_code == 200
    assert client.get("/v1/ledger/proofs/certificates/REC-t-taro", headers=headers).status_code == 200
    assert client.get("/v1/ledger/certificates/REC-t-taro/retirement", headers=headers).status_code == 200
