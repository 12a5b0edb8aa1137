"""A retry never places a second order: 503 with Retry-After when the broker cannot confirm, and the
Idempotency-Key (or a client-chosen order id) returns the first answer."""

from __future__ import annotations

import socket
import time

import pytest
from fastapi.testclient import TestClient

from services.gateway.app import create_app
from services.gateway.publisher import BrokerUnavailable, BusPublisher, KafkaPublisher
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus
from shared.contracts.energy import ORDERS

from .conftest import SETTINGS, auth, future_slot

ORDER = {"side": "buy", "kwh": "1.5", "limit_price": "20"}


class FlakyPublisher(BusPublisher):
    """Refuses the first ``failures`` publishes as a broker that does not confirm would."""

    def __init__(self, bus, failures: int):
        super().__init__(bus)
        self.failures = failures

    async def publish(self, topic, payload, *, event_id=None):
        if self.failures:
            self.failures -= 1
            raise BrokerUnavailable("the broker did not confirm within 3 s")
        return await super().publish(topic, payload, event_id=event_id)


def _client(publisher):
    return TestClient(create_app(SETTINGS, publisher, LedgerReader(open_ledger("sqlite://"))))


def test_retry_with_the_same_key_returns_the_first_answer(client, bus):
    """Posting twice with one Idempotency-Key gives the same answer and one order on the bus."""
    body = {**ORDER, "slot": future_slot()}
    headers = {**auth("home-1"), "Idempotency-Key": "k-123"}
    first = client.post("/v1/energy/orders", json=body, headers=headers)
    again = client.post("/v1/energy/orders", json=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert len(bus.events(ORDERS)) == 1


def test_same_key_for_a_different_order_is_409(client):
    """A key reused for another order is a conflict, not a second order."""
    headers = {**auth("home-1"), "Idempotency-Key": "k-9"}
    assert client.post("/v1/energy/orders", json={**ORDER, "slot": future_slot()}, headers=headers).status_code == 202
    r = client.post("/v1/energy/orders", json={**ORDER, "kwh": "2", "slot": future_slot()}, headers=headers)
    assert r.status_code == 409 and "Idempotency-Key" in r.json()["message"]


def test_keys_belong_to_their_participant(client, bus):
    """Two users may use the same key; each gets its own order."""
    body = {**ORDER, "slot": future_slot()}
    a = client.post("/v1/energy/orders", json=body, headers={**auth("home-1"), "Idempotency-Key": "same"})
    b = client.post("/v1/energy/orders", json=body, headers={**auth("home-2"), "Idempotency-Key": "same"})
    assert a.json()["order_id"] != b.json()["order_id"]
    assert len(bus.events(ORDERS)) == 2


def test_503_then_retry_publishes_the_same_order_and_event():
    """When the broker does not confirm, the answer is 503 + Retry-After; the retry sends the very same
    order id and event id (so a late delivery of the first attempt is the same order, admitted once)."""
    bus = InProcessBus()
    client = _client(FlakyPublisher(bus, failures=1))
    body = {**ORDER, "slot": future_slot()}
    headers = {**auth("home-1"), "Idempotency-Key": "retry-me"}
    r = client.post("/v1/energy/orders", json=body, headers=headers)
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    assert "Idempotency-Key" in r.json()["message"]
    ok = client.post("/v1/energy/orders", json=body, headers=headers)
    assert ok.status_code == 202
    again = client.post("/v1/energy/orders", json=body, headers=headers)
    assert again.json() == ok.json()
    from services.gateway.idempotency import order_id_for

    assert ok.json()["order_id"] == order_id_for("home-1", "retry-me")
    assert len(bus.events(ORDERS)) == 1


def test_client_chosen_order_id_gives_the_same_event_on_retry():
    """Without a key, a client that chose its order id gets the same event id on every retry."""
    bus = InProcessBus()
    client = _client(BusPublisher(bus))
    body = {**ORDER, "slot": future_slot(), "order_id": "mine-1"}
    first = client.post("/v1/energy/orders", json=body, headers=auth("home-1")).json()
    second = client.post("/v1/energy/orders", json=body, headers=auth("home-1")).json()
    assert first["event_id"] == second["event_id"] and first["order_id"] == "mine-1"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(60)
def test_unreachable_broker_answers_503_in_bounded_time_and_not_ready():
    """A real Kafka producer with no broker behind it: POST is a 503 with Retry-After within a few seconds
    (not a 10 s hang and a plain 500), and /ready is 503 with bus false."""
    publisher = KafkaPublisher(f"127.0.0.1:{_closed_port()}", confirm_timeout_s=1.5, probe_timeout_s=0.5)
    with TestClient(create_app(SETTINGS, publisher, LedgerReader(open_ledger("sqlite://")))) as client:
        started = time.monotonic()
        r = client.post("/v1/energy/orders", json={**ORDER, "slot": future_slot()},
                        headers={**auth("home-1"), "Idempotency-Key": "k"})
        took = time.monotonic() - started
        assert r.status_code == 503, r.text
        assert r.headers["content-type"].startswith("application/json") and r.headers["Retry-After"]
        assert took < 4, took
        started = time.monotonic()
        ready = client.get("/ready")
        assert ready.status_code == 503 and ready.json()["checks"]["bus"] is False
        assert time.monotonic() - started < 3
