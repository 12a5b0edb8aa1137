"""Preferences over HTTP: defaults, partial changes, a broken rule names its field, opting out of offers
reaches the campaign service, and a token without an account has none."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.gateway.accounts.passwords import Passwords, cheap_hasher
from services.gateway.accounts.service import Accounts
from services.gateway.accounts.store import open_store
from services.gateway.app import create_app
from services.gateway.publisher import BusPublisher
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus
from shared.contracts.incentives import USERS, OffersPreference

from .conftest import SETTINGS, auth

PASSWORD = "green-kWh-2026"


@pytest.fixture
def world():
    accounts = Accounts(open_store("sqlite://"), SETTINGS.token_secret, passwords=Passwords(cheap_hasher()))
    bus = InProcessBus()
    client = TestClient(create_app(SETTINGS, BusPublisher(bus), LedgerReader(open_ledger("sqlite://")),
                                   accounts=accounts))
    accounts.sign_up("hanako", PASSWORD)
    token = client.post("/v1/auth/token", data={"username": "hanako", "password": PASSWORD}).json()
    return client, bus, {"Authorization": f"Bearer {token['access_token']}"}, token["account"]["account_id"]


def test_defaults_then_partial_changes(world):
    client, _, headers, _ = world
    r = client.get("/v1/app/preferences", headers=headers)
    assert r.status_code == 200 and r.json() == {"notifications": False, "quiet_start": "22:00", "quiet_end": "07:00",
                                                 "ev_profile": "economy", "home_area": None, "work_area": None,
                                                 "offers_opt_out": False}
    r = client.patch("/v1/app/preferences", headers=headers, json={"notifications": True, "ev_profile": "green"})
    assert r.status_code == 200 and r.json()["notifications"] is True and r.json()["quiet_start"] == "22:00"
    r = client.patch("/v1/app/preferences", headers=headers, json={"quiet_start": None, "quiet_end": None})
    assert r.status_code == 200 and r.json()["quiet_start"] is None
    assert client.get("/v1/app/preferences", headers=headers).json()["ev_profile"] == "green"


def test_broken_rules_name_the_field(world):
    client, _, headers, _ = world
    r = client.patch("/v1/app/preferences", headers=headers, json={"quiet_start": "7am"})
    assert r.status_code == 422 and r.json()["message"].startswith("body.quiet_start:")
    r = client.patch("/v1/app/preferences", headers=headers, json={"quiet_end": None})
    assert r.status_code == 422 and r.json()["message"].startswith("body.quiet_end: quiet hours need both")
    r = client.patch("/v1/app/preferences", headers=headers, json={"ev_profile": "fast"})
    assert r.status_code == 422 and "ev_profile" in r.json()["message"]


def test_opting_out_tells_the_campaign_service(world):
    client, bus, headers, account_id = world
    assert client.patch("/v1/app/preferences", headers=headers, json={"offers_opt_out": True}).status_code == 200
    client.patch("/v1/app/preferences", headers=headers, json={"offers_opt_out": True})  # no change: no event
    events = [e for e in bus.events(USERS) if isinstance(e, OffersPreference)]
    assert [(e.user, e.opted_out) for e in events] == [(account_id, True)]


def test_a_token_without_an_account_has_no_preferences(world):
    client, *_ = world
    r = client.get("/v1/app/preferences", headers=auth("home-77"))
    assert r.status_code == 404 and "no app-user account" in r.json()["message"]
    r = client.get("/v1/app/preferences", headers=auth("home-77", role="device"))
    assert r.status_code == 403
