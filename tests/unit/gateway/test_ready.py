"""/ready tells the truth within a bounded time: a ledger that fails or hangs makes it 503 with ledger false."""

from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient

from services.gateway.app import create_app
from services.gateway.publisher import BusPublisher
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus

from .conftest import SETTINGS


def _client(readiness):
    return TestClient(create_app(SETTINGS, BusPublisher(InProcessBus()), LedgerReader(open_ledger("sqlite://")),
                                 readiness=readiness))


def test_ready_is_503_when_the_ledger_check_fails():
    """A ledger that refuses connections reads as ledger false and /ready 503."""
    r = _client(lambda: {"ledger": False}).get("/ready")
    assert r.status_code == 503 and r.json() == {"ready": False, "checks": {"bus": True, "ledger": False}}


def test_ready_answers_within_bounds_when_the_ledger_hangs():
    """A ledger check that hangs (a database that accepts no connection) is cut off: 503 in under 3 s."""
    release = threading.Event()

    def hanging() -> dict[str, bool]:
        release.wait(30)
        return {"ledger": True}

    with _client(hanging) as client:
        try:
            started = time.monotonic()
            r = client.get("/ready")
            took = time.monotonic() - started
            again = client.get("/ready")  # a second probe while the first check still hangs: no new thread
        finally:
            release.set()
    assert r.status_code == again.status_code == 503 and r.json()["checks"]["ledger"] is False
    assert took < 3, took


def test_ready_is_200_when_all_checks_pass():
    """Bus and ledger up: 200."""
    r = _client(lambda: {"ledger": True}).get("/ready")
    assert r.status_code == 200 and r.json()["ready"] is True
