"""Campaign routes: operators launch and stop, shops redeem, app users answer, declare trips, opt out."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.gateway.app import create_app
from services.gateway.publisher import BusPublisher
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.auth import issue_token
from shared.bus.inprocess import InProcessBus
from shared.contracts.incentives import CAMPAIGNS, REDEMPTIONS, RESPONSES, USERS
from shared.settings import Settings

SETTINGS = Settings(token_secret="unit-secret", operator_token="op")
OPERATOR = {"Authorization": "Bearer op"}
CAMPAIGN = {"campaign_id": "gates-am", "operator": "ebina-station-area", "day": "2026-12-02",
            "goal_kind": "cut_load", "place": "odakyu_gates", "window": ["07:30", "08:30"], "share": 0.1,
            "daily_budget_yen": 50000, "guard_yen": 150000,
            "offers": [{"offer_id": "early30", "kind": "shift_earlier", "reward_yen": 100, "shift_min": 30},
                       {"offer_id": "cafe20", "kind": "coupon", "reward_yen": 200, "shift_min": 20,
                        "shop": "vinawalk-cafe"}]}


def auth(pid: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token('unit-secret', pid)}"}


@pytest.fixture
def bus():
    return InProcessBus()


@pytest.fixture
def client(bus):
    led = open_ledger("sqlite://")
    yield TestClient(create_app(SETTINGS, BusPublisher(bus), LedgerReader(led)))
    led.close()


def test_operator_launches_a_campaign(client, bus) -> None:
    r = client.post("/v1/operator/campaigns", json=CAMPAIGN, headers=OPERATOR)
    assert r.status_code == 202, r.text
    [event] = bus.events(CAMPAIGNS)
    assert event.campaign_id == "gates-am" and event.offers[1].shop == "vinawalk-cafe"


def test_app_user_cannot_launch(client) -> None:
    assert client.post("/v1/operator/campaigns", json=CAMPAIGN, headers=auth("home-1")).status_code == 403


@pytest.mark.parametrize("change,field", [
    ({"guard_yen": 1000}, "guard_yen"),
    ({"window": ["08:30", "07:30"]}, "window"),
    ({"window": ["7:30", "08:30"]}, "window"),
    ({"excluded_segments": {"shopping": ""}}, "excluded_segments.shopping"),
    ({"offers": [{"offer_id": "c", "kind": "coupon", "reward_yen": 100, "shift_min": 10}]}, "offers.c.shop"),
    ({"daily_budget_yen": 0}, "daily_budget_yen"),
])
def test_bad_campaign_is_422_naming_the_field(client, bus, change, field) -> None:
    r = client.post("/v1/operator/campaigns", json={**CAMPAIGN, **change}, headers=OPERATOR)
    assert r.status_code == 422 and field in r.json()["message"], r.text
    assert bus.events(CAMPAIGNS) == []


def test_shop_redeems_and_user_answers(client, bus) -> None:
    assert client.post("/v1/campaigns/redemptions", json={"code": "ABCD2345EFGH"},
                       headers=auth("cafe-1")).status_code == 202
    [req] = bus.events(REDEMPTIONS)
    assert req.redeemer == "cafe-1"
    assert client.post("/v1/app/offers/o-1/answer", json={"accept": True}, headers=auth("home-1")).status_code == 202
    [answer] = bus.events(RESPONSES)
    assert answer.user == "home-1" and answer.accepted and answer.responder == "app"
    assert client.post("/v1/app/offers/preference", json={"opted_out": True},
                       headers=auth("home-1")).status_code == 202
    assert client.post("/v1/app/trips", json={"place": "odakyu_gates", "at": "2026-12-02T07:50:00+09:00",
                                              "segment": "commute_out"}, headers=auth("home-1")).status_code == 202
    kinds = [type(e).__name__ for e in bus.events(USERS)]
    assert kinds == ["OffersPreference", "TripExpected"]


def test_campaign_summaries_join_the_ledger_and_reconcile_names_mismatches(bus) -> None:
    """GET /v1/operator/campaigns counts what the campaign topics say and joins the ledger's account (none yet
    here); the reconcile route answers what the campaign check found, per campaign, and is operator-only."""
    from services.gateway.campaign_feed import BusCampaigns
    from services.incentives.domain.reconcile import LedgerAccount, reconcile_campaigns

    def check():
        return reconcile_campaigns({}, [LedgerAccount("ghost", 1_000, 0, 1_000, {})])

    led = open_ledger("sqlite://")
    client = TestClient(create_app(SETTINGS, BusPublisher(bus), LedgerReader(led), campaigns=BusCampaigns(bus),
                                   campaign_check=check))
    assert client.post("/v1/operator/campaigns", json=CAMPAIGN, headers=OPERATOR).status_code == 202
    (summary,) = client.get("/v1/operator/campaigns", headers=OPERATOR).json()
    assert summary["campaign_id"] == "gates-am" and summary["ledger"] is None
    assert summary["budget"]["planned_yen"] == 50_000 and summary["budget"]["guard_yen"] == 150_000
    assert summary["offers"] == {"sent": 0, "accepted": 0, "declined": 0, "expired": 0, "open": 0, "redeemed": 0}
    assert client.get("/v1/operator/campaigns", headers=auth("home-01")).status_code == 403
    answer = client.get("/v1/operator/campaigns/reconcile", headers=OPERATOR).json()
    assert answer["ok"] is False and answer["mismatched"] == ["ghost"]
    assert "does not know" in answer["campaigns"][0]["mismatches"][0]
    led.close()
