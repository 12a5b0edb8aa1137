"""Accounts on a real PostgreSQL server: migrations beside the ledger's, one winner when a refresh token is
presented twice at once, and the stack's gateway signing people in from its own database."""

from __future__ import annotations

import json
import threading
import uuid

import httpx
import pytest
from kafka import KafkaProducer
from sqlalchemy import inspect

from services.gateway.accounts.passwords import Passwords, cheap_hasher
from services.gateway.accounts.service import Accounts, RefreshRefused
from services.gateway.accounts.store import open_store
from services.settlement.store import open_ledger
from shared.contracts.base import Envelope
from shared.contracts.codec import encode
from shared.contracts.incentives import OFFERS, IncentiveOfferMade

from .conftest import wait_until

pytestmark = pytest.mark.integration
PASSWORD = "green-kWh-2026"


def test_accounts_share_the_ledgers_database_with_their_own_migrations(database_url):
    """Ledger and accounts migrate the same database with separate version tables; migrating twice (two
    gateways starting together) is harmless."""
    ledger = open_ledger(database_url)
    stores = []
    threads = [threading.Thread(target=lambda: stores.append(open_store(database_url))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stores) == 3
    tables = set(inspect(stores[0].engine).get_table_names())
    assert {"accounts", "account_refresh_tokens", "accounts_alembic_version", "ledger_alembic_version"} <= tables
    for s in stores:
        s.close()
    ledger.close()


def test_one_of_two_simultaneous_refreshes_wins(database_url):
    """The same refresh token sent by eight clients at once: exactly one gets new tokens."""
    accounts = Accounts(open_store(database_url), "pg-secret", passwords=Passwords(cheap_hasher()))
    accounts.sign_up("hanako", PASSWORD)
    token = accounts.sign_in("hanako", PASSWORD).refresh_token
    wins, refusals = [], []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        barrier.wait()
        try:
            wins.append(accounts.refresh(token))
        except RefreshRefused as exc:
            refusals.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and len(refusals) == 7
    accounts.close()


def test_the_stack_gateway_signs_people_up_and_in(stack):
    """Over the running stack (PostgreSQL): sign up, sign in, read my balance; /ready checks the accounts."""
    name = f"user-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=stack.gateway, timeout=10) as http:
        assert http.get("/ready").json()["checks"].get("accounts") is True
        r = http.post("/v1/auth/signup", json={"username": name, "password": PASSWORD})
        assert r.status_code == 201, r.text
        session = http.post("/v1/auth/token", data={"username": name, "password": PASSWORD}).json()
        r = http.get("/v1/ledger/balance", headers={"Authorization": f"Bearer {session['access_token']}"})
        assert r.status_code == 200 and r.json()["participant"] == session["account"]["account_id"]
        r = http.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
        assert r.status_code == 200
        assert http.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}).status_code == 401


def test_the_stack_gateway_streams_an_offer_made_on_kafka_and_records_the_answer(stack):
    """An offer for a signed-up user, produced on incentives.offers as the campaign service does, arrives on
    the user's event stream; accepting it goes to incentives.responses and comes back as "accepted" with the
    code to show (the gateway's read model follows the broker, not its own request)."""
    name = f"user-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=stack.gateway, timeout=10) as http:
        assert http.post("/v1/auth/signup", json={"username": name, "password": PASSWORD}).status_code == 201
        session = http.post("/v1/auth/token", data={"username": name, "password": PASSWORD}).json()
        me, headers = session["account"]["account_id"], {"Authorization": f"Bearer {session['access_token']}"}
        offer = IncentiveOfferMade(offer_id=f"off-{uuid.uuid4().hex[:8]}", user=me, offer_type="other_exit",
                                   reward_yen=80, campaign="gate-peak", shop="vinawalk-cafe", code="ZX81-QW42")
        producer = KafkaProducer(bootstrap_servers=stack.kafka, acks="all")
        producer.send(OFFERS.name, key=me.encode(), value=encode(Envelope.wrap(offer, "test"))).get(10)
        producer.close()
        seen: list[str] = []
        with http.stream("GET", "/v1/app/offers/stream", headers=headers, params={"seconds": "30"},
                         timeout=40) as response:
            for line in response.iter_lines():
                if line.startswith("data: "):
                    seen = [o["offer_id"] for o in json.loads(line[6:])["offers"]]
                    if offer.offer_id in seen:
                        break
        assert seen == [offer.offer_id]
        assert http.post(f"/v1/app/offers/{offer.offer_id}/answer", headers=headers,
                         json={"accept": True}).status_code == 202

        def accepted():
            rows = http.get("/v1/app/offers", headers=headers).json()["offers"]
            return rows if rows and rows[0]["state"] == "accepted" else None

        rows = wait_until(accepted, 30, "the answer back from incentives.responses")
        assert rows[0]["code"] == "ZX81-QW42"
