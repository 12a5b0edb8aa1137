"""Operators' campaign controls over HTTP: pause, resume, revise, stop; the campaign service on the in-process
bus decides each revision and settlement funds it; roles other than operator get 403, a campaign the read model
knows does not exist 404, a stopped one 409, and bad input 422 naming the field and the rule."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.campaign_audit import reconcile_with
from services.gateway.app import create_app
from services.gateway.campaign_feed import BusCampaigns
from services.gateway.publisher import BusPublisher
from services.settlement.service import build_service as settlement_service
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus
from shared.contracts.incentives import CAMPAIGNS, CampaignRevisionRequested

from ..incentives.test_service import launch, make_bus, seed
from .conftest import SETTINGS, auth

OPERATOR = auth("o-ops", role="operator")
PATH = "/v1/operator/campaigns/gates-pm"


@pytest.fixture
def running():
    """The gateway over the campaign service and settlement; campaign gates-pm launched, one round made."""
    bus, core = make_bus()
    led = open_ledger("sqlite://")
    bus.add(settlement_service(led))
    seed(bus)
    bus.tick()
    bus.run_until_idle()
    client = TestClient(create_app(SETTINGS, BusPublisher(bus), LedgerReader(led), campaigns=BusCampaigns(bus)))
    yield client, bus, core, led
    led.close()


def _summary(client) -> dict:
    (summary,) = client.get("/v1/operator/campaigns", headers=OPERATOR).json()
    return summary


def test_pause_resume_and_stop_show_in_the_campaign_list(running) -> None:
    client, _bus, core, _ = running
    assert _summary(client)["state"] == "running"
    r = client.post(f"{PATH}/pause", json={"reason": "festival at the east deck"}, headers=OPERATOR)
    assert r.status_code == 202 and r.json()["id"] == "gates-pm"
    assert _summary(client)["state"] == "paused" and core.campaigns["gates-pm"].paused
    assert client.post(f"{PATH}/resume", headers=OPERATOR).status_code == 202
    assert _summary(client)["state"] == "running"
    assert client.post(f"{PATH}/pause", headers=OPERATOR).status_code == 202  # no body: no reason
    assert client.post(f"{PATH}/stop", json={}, headers=OPERATOR).status_code == 202
    summary = _summary(client)
    assert summary["state"] == "stopped" and summary["stopped"] is True
    for path, method in ((f"{PATH}/pause", "post"), (f"{PATH}/resume", "post"), (PATH, "patch")):
        r = getattr(client, method)(path, json={"daily_budget_yen": 4_000} if method == "patch" else None,
                                    headers=OPERATOR)
        assert r.status_code == 409 and "stopped" in r.json()["message"], (path, r.text)


def test_a_campaign_id_already_used_is_409(running) -> None:
    client, bus, _core, _ = running
    before = len(bus.events(CAMPAIGNS))
    r = client.post("/v1/operator/campaigns", json=launch().model_dump(mode="json"), headers=OPERATOR)
    assert r.status_code == 409 and "'gates-pm' is already a campaign" in r.json()["message"]
    assert len(bus.events(CAMPAIGNS)) == before


def test_an_unknown_campaign_is_404(running) -> None:
    client = running[0]
    for path, method, body in (("/v1/operator/campaigns/nobody/pause", "post", None),
                               ("/v1/operator/campaigns/nobody/resume", "post", None),
                               ("/v1/operator/campaigns/nobody/stop", "post", {}),
                               ("/v1/operator/campaigns/nobody", "patch", {"guard_yen": 10_000})):
        r = getattr(client, method)(path, json=body, headers=OPERATOR)
        assert r.status_code == 404 and "no campaign 'nobody'" in r.json()["message"], path


@pytest.mark.parametrize("role", ["app-user", "planner", "device"])
def test_only_operators_control_campaigns(running, role) -> None:
    client, bus, _core, _ = running
    before = len(bus.events(CAMPAIGNS))
    headers = auth("someone-1", role=role)
    for method, path, body in (("post", "/v1/operator/campaigns", launch(campaign_id="x").model_dump(mode="json")),
                               ("post", f"{PATH}/pause", None), ("post", f"{PATH}/resume", None),
                               ("patch", PATH, {"guard_yen": 10_000}), ("post", f"{PATH}/stop", {}),
                               ("get", "/v1/operator/campaigns", None)):
        kwargs = {"json": body} if body is not None else {}
        r = getattr(client, method)(path, headers=headers, **kwargs)
        assert r.status_code == 403 and "operator" in r.json()["message"], (method, path, r.text)
    assert len(bus.events(CAMPAIGNS)) == before


def test_a_revision_is_answered_with_the_service_decision_and_funded(running) -> None:
    client, _bus, core, led = running
    r = client.patch(PATH, json={"daily_budget_yen": 4_000, "guard_yen": 12_000, "valid_minutes": 12},
                     headers=OPERATOR)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["status"] == "revised" and answer["revision"] == 1
    assert answer["terms"] == {"daily_budget_yen": 4_000, "guard_yen": 12_000, "max_offers_per_user_per_day": 2,
                               "pause_after_declines": 3, "valid_minutes": 12}
    summary = _summary(client)
    assert summary["revision"] == 1 and summary["budget"]["planned_yen"] == 4_000
    assert summary["budget"]["guard_yen"] == 12_000 and summary["terms"]["valid_minutes"] == 12
    assert summary["ledger"]["funded_yen"] == 12_000
    assert summary["last_revision"] == {"request_id": answer["id"], "status": "revised", "revision": 1}
    assert reconcile_with(core.books(), led).ok


@pytest.mark.parametrize("body,field", [
    ({}, "body"),
    ({"daily_budget_yen": 0}, "daily_budget_yen"),
    ({"daily_budget_yen": 5_000, "guard_yen": 4_000}, "guard_yen"),
    ({"guard_yen": 2_000}, "guard_yen"),  # below the budget of 3,000 (and what is committed)
    ({"max_offers_per_user_per_day": 51}, "max_offers_per_user_per_day"),
    ({"shift_min": 10}, "shift_min"),
    ({"valid_minutes": "soon"}, "valid_minutes"),
])
def test_bad_revisions_are_422_naming_the_field(running, body, field) -> None:
    client, _bus, core, _ = running
    r = client.patch(PATH, json=body, headers=OPERATOR)
    assert r.status_code == 422 and field in r.json()["message"], r.text
    assert core.campaigns["gates-pm"].revision == 0


def test_a_budget_below_what_is_committed_is_refused_by_the_campaign_service(running) -> None:
    client, _bus, core, _ = running
    budget = core.campaigns["gates-pm"].budget
    worst, expected = budget.worst_case_committed, budget.expected_committed
    assert worst > 0 and expected > 1
    r = client.patch(PATH, json={"guard_yen": worst - 1, "daily_budget_yen": 1}, headers=OPERATOR)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "daily_budget_yen"]
    assert "already committed" in r.json()["message"]
    r = client.patch(PATH, json={"guard_yen": max(worst - 1, 1)}, headers=OPERATOR)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][1] in ("guard_yen", "daily_budget_yen")
    summary = _summary(client)
    assert summary["last_revision"]["status"] == "refused" and summary["revision"] == 0


def test_without_a_campaign_feed_a_revision_is_requested_not_awaited() -> None:
    """A gateway that follows no campaign topics cannot tell whether the campaign exists or what the service
    decided: the request is published and answered 202 at once."""
    bus = InProcessBus()
    led = open_ledger("sqlite://")
    client = TestClient(create_app(SETTINGS, BusPublisher(bus), LedgerReader(led)))
    r = client.patch(PATH, json={"guard_yen": 10_000}, headers=OPERATOR)
    assert r.status_code == 202 and r.json()["status"] == "requested"
    [event] = bus.events(CAMPAIGNS)
    assert isinstance(event, CampaignRevisionRequested) and event.request_id == r.json()["id"]
    led.close()


def test_the_feed_says_unknown_until_it_has_caught_up_and_folds_revisions_as_the_service_applies_them() -> None:
    """A Kafka-following campaign list cannot say a campaign does not exist before it has read to the end of
    its topics; a second decision with a revision number already applied is shown as refused, as the campaign
    service ignores it."""
    from datetime import date

    from services.gateway.campaign_feed import KafkaCampaignFeed
    from shared.contracts.incentives import CampaignRevised

    feed = KafkaCampaignFeed("127.0.0.1:1")  # never started: records are folded by hand
    feed.fold(launch())
    assert feed.summary("nobody") == "unknown" and feed.summary("gates-pm")["state"] == "running"
    feed.caught_up.set()
    assert feed.summary("nobody") is None
    terms = dict(campaign_id="gates-pm", operator="ebina-station-area", day=date(2026, 12, 2), revision=1,
                 previous_guard_yen=9_000, max_offers_per_user_per_day=2, pause_after_declines=3, valid_minutes=30)
    feed.fold(CampaignRevised(request_id="a", daily_budget_yen=4_000, guard_yen=12_000, **terms))
    feed.fold(CampaignRevised(request_id="b", daily_budget_yen=5_000, guard_yen=15_000, **terms))
    summary = feed.summary("gates-pm")
    assert summary["revision"] == 1 and summary["budget"]["guard_yen"] == 12_000
    assert feed.revision_outcome("a").guard_yen == 12_000
    stale = feed.revision_outcome("b")
    assert stale.field == "body" and "already made by another request" in stale.reason
    assert (summary["last_revision"]["request_id"], summary["last_revision"]["status"]) == ("b", "refused")
