"""The app's offers: one row per offer with what became of it, the code only once accepted, live over SSE."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from services.gateway.accounts.passwords import Passwords, cheap_hasher
from services.gateway.accounts.service import Accounts
from services.gateway.accounts.store import open_store
from services.gateway.app import create_app
from services.gateway.offers import KEEP_PER_USER, BusOffers, OfferBook
from services.gateway.publisher import BusPublisher
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus
from shared.contracts.incentives import (
    OFFERS,
    IncentiveOfferAnswered,
    IncentiveOfferExpired,
    IncentiveOfferMade,
    RewardRedeemed,
)

from .conftest import SETTINGS

PASSWORD = "green-kWh-2026"
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def offer(offer_id: str, user: str = "u-1", code: str | None = "K7QX-2PLM") -> IncentiveOfferMade:
    return IncentiveOfferMade(offer_id=offer_id, user=user, offer_type="shift_later", reward_yen=120, shift_min=20,
                              campaign="gate-peak", shop="vinawalk-cafe", code=code, made_at=NOW,
                              expires_at=NOW + timedelta(minutes=30))


def states(book: OfferBook, user: str = "u-1") -> dict[str, str]:
    return {r["offer_id"]: r["state"] for r in book.offers_for(user)[1]}


def test_each_offer_follows_its_answers_and_the_code_shows_only_once_accepted():
    book = OfferBook()
    for oid in ("o-1", "o-2", "o-3", "o-4"):
        book.apply(offer(oid))
    assert all(r["code"] is None for r in book.offers_for("u-1")[1])
    book.apply(IncentiveOfferAnswered(offer_id="o-1", user="u-1", accepted=True, responder="app"))
    book.apply(IncentiveOfferAnswered(offer_id="o-2", user="u-1", accepted=False, responder="app"))
    book.apply(IncentiveOfferExpired(offer_id="o-3", user="u-1"))
    book.apply(RewardRedeemed(code="K7QX-2PLM", offer_id="o-1", campaign_id="gate-peak", operator="op",
                                           user="u-1", reward_yen=120, redeemer="vinawalk-cafe", at=NOW))
    book.apply(IncentiveOfferExpired(offer_id="o-1", user="u-1"))  # too late: it was redeemed
    assert states(book) == {"o-1": "redeemed", "o-2": "declined", "o-3": "expired", "o-4": "offered"}
    rows = {r["offer_id"]: r for r in book.offers_for("u-1")[1]}
    assert rows["o-1"]["code"] == "K7QX-2PLM" and rows["o-2"]["code"] is None and rows["o-4"]["code"] is None
    assert [r["offer_id"] for r in book.offers_for("u-1")[1]] == ["o-4", "o-3", "o-2", "o-1"]  # newest first


def test_nobody_moves_another_users_offer_and_redelivery_changes_nothing():
    book = OfferBook()
    book.apply(offer("o-1", user="hanako"))
    version = book.offers_for("hanako")[0]
    book.apply(IncentiveOfferAnswered(offer_id="o-1", user="taro", accepted=True, responder="app"))
    book.apply(offer("o-1", user="hanako"))
    assert book.offers_for("hanako") == (version, book.offers_for("hanako")[1])
    assert states(book, "hanako") == {"o-1": "offered"} and book.offers_for("taro") == (0, [])


def test_a_user_keeps_the_latest_offers_only():
    book = OfferBook()
    for k in range(KEEP_PER_USER + 5):
        book.apply(offer(f"o-{k}"))
    rows = book.offers_for("u-1")[1]
    assert len(rows) == KEEP_PER_USER and rows[0]["offer_id"] == f"o-{KEEP_PER_USER + 4}"


@pytest.fixture
def app_and_bus():
    accounts = Accounts(open_store("sqlite://"), SETTINGS.token_secret, passwords=Passwords(cheap_hasher()))
    user = accounts.sign_up("midori", PASSWORD)
    bus = InProcessBus()
    app = create_app(SETTINGS, BusPublisher(bus), LedgerReader(open_ledger("sqlite://")), accounts=accounts,
                     offers=BusOffers(bus))
    client = TestClient(app)
    token = client.post("/v1/auth/token", data={"username": "midori", "password": PASSWORD}).json()["access_token"]
    return client, bus, user.subject, {"Authorization": f"Bearer {token}"}


def test_the_list_answers_the_callers_offers_and_an_accept_goes_on_the_bus(app_and_bus):
    client, bus, me, headers = app_and_bus
    bus.publish(OFFERS, offer("o-9", user=me))
    listed = client.get("/v1/app/offers", headers=headers).json()
    assert [(o["offer_id"], o["state"], o["code"]) for o in listed["offers"]] == [("o-9", "offered", None)]
    assert client.post("/v1/app/offers/o-9/answer", headers=headers, json={"accept": True}).status_code == 202
    after = client.get("/v1/app/offers", headers=headers).json()
    assert after["version"] > listed["version"]
    assert (after["offers"][0]["state"], after["offers"][0]["code"]) == ("accepted", "K7QX-2PLM")
    assert client.get("/v1/app/offers/stream", headers=headers, params={"seconds": "0"}).status_code == 422
    assert client.get("/v1/app/offers", headers={"Authorization": f"Bearer {SETTINGS.operator_token}"}
                      ).status_code == 403


def test_the_stream_sends_the_list_at_once_and_again_when_an_offer_arrives(app_and_bus):
    """Over a real socket (uvicorn): the first event is the current list; an offer published afterwards
    arrives as a second event within a second or so."""
    from tests.browser.test_web_pages import serve

    client, bus, me, headers = app_and_bus
    bus.publish(OFFERS, offer("o-1", user=me))
    events: list[dict] = []
    with serve(client.app) as base, httpx.stream("GET", f"{base}/v1/app/offers/stream", headers=headers,
                                                 params={"seconds": "20"}, timeout=30) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        later = threading.Timer(0.5, lambda: bus.publish(OFFERS, offer("o-2", user=me)))
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if len(events) == 1:
                    later.start()
                if len(events) == 2:
                    break
        later.cancel()
    assert [o["offer_id"] for o in events[0]["offers"]] == ["o-1"]
    assert [o["offer_id"] for o in events[1]["offers"]] == ["o-2", "o-1"]
    assert events[1]["version"] > events[0]["version"]
