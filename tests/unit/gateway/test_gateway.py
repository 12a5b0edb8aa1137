from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from services.gateway.app import create_app
from services.gateway.publisher import BusPublisher
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus
from shared.contracts.energy import ORDERS, REJECTIONS, TradeMatched

from .conftest import SETTINGS, auth, future_slot


@pytest.fixture
def ledger():
    """The embedded (SQLite) ledger with one settled trade: pv-1 sold 1 kWh of PV to home-1 at 15 yen."""
    led = open_ledger("sqlite://")
    led.record_trade(TradeMatched(trade_id="t1", slot="2026-11-28T13:00:00+09:00", seller="pv-1", buyer="home-1",
                                  kwh="1.000", price="15.00", tier="B", wheeling_fee="10.00", renewable=True,
                                  seller_site="roof-1"))
    yield led
    led.close()


ORDER = {"side": "buy", "slot": future_slot(), "kwh": "1.5", "limit_price": "20"}


def test_order_is_published_with_participant_from_token(client, bus):
    """A valid order is accepted (202) and published with the caller's id, not one from the body."""
    r = client.post("/v1/energy/orders", json=ORDER, headers=auth("home-1"))
    assert r.status_code == 202, r.text
    [event] = bus.events(ORDERS)
    assert event.participant == "home-1"
    assert event.kwh == Decimal("1.5")
    assert r.json()["order_id"] == event.order_id


def test_participant_in_body_is_refused(client):
    """A body that tries to name a participant is a 422: the id comes from the token only."""
    r = client.post("/v1/energy/orders", json={**ORDER, "participant": "someone-else"}, headers=auth("home-1"))
    assert r.status_code == 422
    assert "participant" in r.json()["message"]


@pytest.mark.parametrize("field,value", [("kwh", "-1"), ("slot", "2026-11-28T13:07:00+09:00"),
                                         ("limit_price", "abc"), ("side", "hold")])
def test_malformed_order_names_the_field(client, bus, field, value):
    """A malformed order gets 422 with a message naming the bad field, and nothing is published."""
    r = client.post("/v1/energy/orders", json={**ORDER, field: value}, headers=auth("home-1"))
    assert r.status_code == 422
    assert f"body.{field}" in r.json()["message"]
    assert bus.events(ORDERS) == []


def test_missing_or_bad_token_is_401(client):
    """Without a valid token the order is refused with 401."""
    assert client.post("/v1/energy/orders", json=ORDER).status_code == 401
    r = client.post("/v1/energy/orders", json=ORDER, headers={"Authorization": "Bearer home-1.forged"})
    assert r.status_code == 401 and "signature" in r.json()["message"]


def test_trades_are_scoped_to_the_caller(client):
    """A participant reads only trades it is party to."""
    [trade] = client.get("/v1/energy/trades", headers=auth("home-1")).json()
    assert (trade["trade_id"], trade["role"], trade["kwh"]) == ("t1", "buyer", "1.000")
    assert client.get("/v1/energy/trades", headers=auth("pv-1")).json()[0]["role"] == "seller"
    assert client.get("/v1/energy/trades", headers=auth("home-2")).json() == []


def test_ledger_reads_are_scoped_to_the_caller(client):
    """Statement, balance and certificates answer about the caller only; another user sees none of it."""
    buyer = client.get("/v1/ledger/balance", headers=auth("home-1")).json()
    assert Decimal(buyer["yen"]) == Decimal("-25.00")  # 15 yen energy + 10 yen wheeling
    assert Decimal(buyer["kwh"]) == Decimal("1")
    assert client.get("/v1/ledger/balance", headers=auth("home-2")).json()["yen"] in ("0", "0.00")
    assert client.get("/v1/ledger/certificates", headers=auth("home-2")).json() == []
    statement = client.get("/v1/ledger/statement", headers=auth("home-1"))
    assert statement.status_code == 200 and "t1" in statement.text
    assert "t1" not in client.get("/v1/ledger/statement", headers=auth("home-2")).text
    page = client.get("/v1/ledger/statement?format=html", headers=auth("home-1"))
    assert page.headers["content-type"].startswith("text/html")


def test_operator_ledger_routes_need_the_operator(client):
    """Verify, reconcile and slot totals answer the operator and refuse an app user."""
    for path in ("/v1/operator/ledger/verify", "/v1/operator/ledger/reconcile", "/v1/operator/ledger/slots"):
        assert client.get(path, headers=auth("home-1")).status_code == 403, path
        assert client.get(path, headers={"Authorization": "Bearer op"}).status_code == 200, path
    assert client.get("/v1/operator/ledger/verify", headers={"Authorization": "Bearer op"}).json()["ok"] is True


def test_gate_close_needs_operator(client, bus):
    """Only the operator can close a gate (an app user gets 403, no token 401); then GateClosed is published."""
    url = f"/v1/operator/slots/{future_slot()}/close"
    assert client.post(url, headers=auth("home-1")).status_code == 403
    assert client.post(url).status_code == 401
    r = client.post(url, headers={"Authorization": "Bearer op"})
    assert r.status_code == 200, r.text
    assert len(bus.events(ORDERS)) == 1


def test_health_ready_metrics_docs(client):
    """Operations endpoints answer: health, readiness, Prometheus metrics and the OpenAPI document."""
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json()["ready"] is True
    assert "citymatch_http_requests_total" in client.get("/metrics").text
    assert "/v1/energy/orders" in client.get("/openapi.json").json()["paths"]


def test_rejections_are_scoped_to_the_caller(client, bus):
    """A rejection published by the market is visible to its participant only, with the reason."""
    from shared.contracts.energy import OrderRejected

    bus.publish(REJECTIONS, OrderRejected(order_id="o9", participant="home-1", reason="gate closed"))
    bus.run_until_idle()
    assert client.get("/v1/energy/rejections", headers=auth("home-1")).json() == [
        {"order_id": "o9", "slot": None, "reason": "gate closed"}]
    assert client.get("/v1/energy/rejections", headers=auth("home-2")).json() == []


@pytest.mark.parametrize("slot", ["2026-11-27T21:15:00+09:00", "2026-11-28T13:00:00"])
def test_gate_close_with_bad_slot_is_422(client, slot):
    """A gate-closure slot off the 30-minute grid or without a time zone is a 422 naming path.slot."""
    r = client.post(f"/v1/operator/slots/{slot}/close", headers={"Authorization": "Bearer op"})
    assert r.status_code == 422
    assert "path.slot" in r.json()["message"]


def test_order_for_a_slot_that_has_begun_is_422(client, bus):
    """An order for a slot that has already started is refused at once, naming the field."""
    r = client.post("/v1/energy/orders", json={**ORDER, "slot": "2020-01-01T10:00:00+09:00"}, headers=auth("home-1"))
    assert r.status_code == 422
    assert "body.slot" in r.json()["message"] and "past" in r.json()["message"]
    assert bus.events(ORDERS) == []


def test_certificate_retirement_proves_renewable_use(ledger):
    """The buyer retires its certificate against a target once; progress shows it; others cannot retire it."""
    from services.settlement.service import build_service

    bus = InProcessBus([build_service(ledger)])
    client = TestClient(create_app(SETTINGS, BusPublisher(bus), LedgerReader(ledger)))
    [cert] = client.get("/v1/ledger/certificates", headers=auth("home-1")).json()
    assert (cert["source_site"], cert["kwh"], cert["retired"]) == ("roof-1", "1.000", False)
    url = f"/v1/ledger/certificates/{cert['cert_id']}/retire"
    assert client.post(url, json={"target": "FY2026"}, headers=auth("home-2")).status_code == 404
    assert client.get("/v1/ledger/renewable-progress", headers=auth("home-2")).json() == {}
    assert client.post(url, json={"target": "FY2026"}, headers=auth("home-1")).status_code == 200
    assert client.get("/v1/ledger/renewable-progress", headers=auth("home-1")).json() == {"FY2026": "1.000"}
    assert client.get("/v1/ledger/certificates", headers=auth("home-1")).json()[0]["retired"] is True
    assert client.post(url, json={}, headers=auth("home-1")).status_code == 422


def test_renewable_target_progress_from_the_ledger(client, ledger):
    """A target is met from community renewable kWh first; what is missing is what certificates must cover."""
    ledger.record_trade(TradeMatched(trade_id="t2", slot="2026-11-28T14:00:00+09:00", seller="grid", buyer="home-1",
                                     kwh="3.000", price="26.20", tier="grid"))
    r = client.get("/v1/ledger/renewable-target?share=0.5", headers=auth("home-1")).json()
    assert (r["consumption_kwh"], r["target_kwh"], r["from_community_kwh"]) == ("4.000", "2.000", "1.000")
    assert (r["certificates_needed_kwh"], r["met"]) == ("1.000", False)
    assert client.get("/v1/ledger/renewable-target?share=0.25", headers=auth("home-1")).json()["met"] is True
    assert client.get("/v1/ledger/renewable-target?share=1.5", headers=auth("home-1")).status_code == 422
