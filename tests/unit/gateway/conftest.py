"""A gateway over the in-process bus and an embedded ledger, with tokens for each role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from services.gateway.app import create_app
from services.gateway.publisher import BusPublisher
from services.gateway.rejections import BusRejections
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.auth import issue_token
from shared.bus.inprocess import InProcessBus
from shared.settings import Settings
from shared.units import slot_start

SETTINGS = Settings(token_secret="unit-secret", operator_token="op")


def auth(pid: str, role: str = "app-user", **kw) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token('unit-secret', pid, role=role, **kw)}"}


OPERATOR = {"Authorization": "Bearer op"}


def future_slot(hours: int = 3) -> str:
    """A slot a few hours ahead (inside the default two-day horizon), as the API writes it."""
    return (slot_start(datetime.now(UTC)) + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def bus():
    return InProcessBus()


@pytest.fixture
def ledger():
    led = open_ledger("sqlite://")
    yield led
    led.close()


@pytest.fixture
def app(bus, ledger):
    return create_app(SETTINGS, BusPublisher(bus), LedgerReader(ledger), rejections=BusRejections(bus))


@pytest.fixture
def client(app):
    return TestClient(app)
