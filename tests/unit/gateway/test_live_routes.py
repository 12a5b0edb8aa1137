"""The operators' live routes: /v1/operator/live, /market/slots and /dead-letters answer operators only, in the
documented shapes, from the read models over the in-process bus."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from services.gateway.anomalies import BusAnomalies
from services.gateway.app import create_app
from services.gateway.city_live import BusLive, ChargerSpec
from services.gateway.dead_letters import BusDeadLetters
from services.gateway.market_slots import BusMarket
from services.gateway.publisher import BusPublisher
from services.market.bootstrap import build_market
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus
from shared.contracts import charging, crowd, energy

from .conftest import OPERATOR, SETTINGS, auth

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
ROUTES = ("/v1/operator/live", "/v1/operator/market/slots", "/v1/operator/dead-letters")


@pytest.fixture
def live_world():
    bus = InProcessBus([build_market()], clock=lambda: T0 + timedelta(minutes=5))
    ledger = LedgerReader(open_ledger("sqlite://"))
    app = create_app(SETTINGS, BusPublisher(bus), ledger, anomalies=BusAnomalies(bus), market=BusMarket(bus),
                     live=BusLive(bus, (ChargerSpec("ebina-station-ev/cp-01", "ebina-station-ev", Decimal("20")),)),
                     dead_letters=BusDeadLetters(bus))
    return TestClient(app), bus


@pytest.mark.parametrize("path", ROUTES)
def test_only_operators_read_the_live_routes(live_world, path):
    client, _ = live_world
    assert client.get(path).status_code == 401
    for role in ("app-user", "device"):
        r = client.get(path, headers=auth("home-1", role=role))
        assert r.status_code == 403 and f"has role {role}" in r.json()["message"]
    assert client.get(path, headers=auth("ops-kenji", role="operator")).status_code == 200
    assert client.get(path, headers=OPERATOR).status_code == 200


def test_live_answers_chokepoints_chargers_and_an_anomaly_mark(live_world):
    client, bus = live_world
    bus.publish(crowd.COUNTS, crowd.CrowdCountObserved(zone="jr_gates", minute_start=T0 + timedelta(minutes=4),
                                                       persons=410, density_p_m2=1.2, los="E"))
    bus.publish(crowd.ANOMALIES, crowd.CrowdAnomalyDetected(zone="jr_gates", minute_start=T0 + timedelta(minutes=4),
                                                            kind="surge", observed=410, expected=120.0, robust_z=8.1))
    bus.publish(charging.SESSIONS, charging.ChargingSessionMetered(
        charger="ebina-station-ev/cp-01", vehicle="ev-3", transaction_id=9, kwh=Decimal("1.5"), started_at=T0,
        read_at=T0 + timedelta(minutes=6)))
    body = client.get("/v1/operator/live", headers=OPERATOR).json()
    assert set(body) == {"now", "stale_after_s", "chokepoints", "chargers", "vehicles"}
    assert body["now"] == "2026-12-02T08:05:00Z" and body["stale_after_s"]["crowd"] > 0
    jr = next(c for c in body["chokepoints"] if c["zone"] == "jr_gates")
    assert (jr["los"], jr["persons"], jr["flow_p_m_min"], jr["stale"]) == ("E", 410, 82.0, False)
    assert jr["anomaly"] == {"kind": "surge", "minute_start": "2026-12-02T08:04:00+00:00", "observed": 410.0,
                             "expected": 120.0}
    assert next(c for c in body["chokepoints"] if c["zone"] == "west_deck")["anomaly"] is None
    [cp] = body["chargers"]
    assert (cp["kw"], cp["capacity_kw"], cp["in_use"]) == (15.0, 20.0, True)
    assert body["vehicles"] == []


def test_market_slots_and_dead_letters_shapes(live_world):
    client, bus = live_world
    bus.publish(energy.TRADES, energy.TradeMatched(trade_id="t-1", slot=T0, seller="pv-1", buyer="home-1",
                                                   kwh=Decimal("2"), price=Decimal("17.5"), renewable=True))
    bus.publish_raw(energy.ORDERS.name, b"{broken")  # the market dead-letters it
    bus.run_until_idle()
    [slot] = client.get("/v1/operator/market/slots?limit=5", headers=OPERATOR).json()
    assert (slot["slot"], slot["price_yen_per_kwh"], slot["renewable_share"]) == ("2026-12-02T08:00:00Z", "17.50", 1.0)
    assert client.get("/v1/operator/market/slots?limit=0", headers=OPERATOR).status_code == 422
    letters = client.get("/v1/operator/dead-letters", headers=OPERATOR).json()
    assert letters["total"] == 1
    [orders] = letters["topics"]
    assert orders["topic"] == "energy.orders" and "undecodable" in orders["latest"][0]["reason"]
    assert orders["latest"][0]["at"] == "2026-12-02T08:05:00Z"


def test_without_feeds_the_routes_answer_empty():
    client = TestClient(create_app(SETTINGS, BusPublisher(InProcessBus()), LedgerReader(open_ledger("sqlite://"))))
    body = client.get("/v1/operator/live", headers=OPERATOR).json()
    assert len(body["chokepoints"]) == 7 and all(c["stale"] and c["los"] is None for c in body["chokepoints"])
    assert body["chargers"] == [] and body["vehicles"] == []
    assert client.get("/v1/operator/market/slots", headers=OPERATOR).json() == []
    assert client.get("/v1/operator/dead-letters", headers=OPERATOR).json() == {"total": 0, "topics": []}
