"""Bad input never gets a 5xx: strict types and ranges, 409 for state conflicts, 413 for oversize bodies,
each with a message that names the field and the rule."""

from __future__ import annotations

import pytest

from shared.contracts.energy import ORDERS

from .conftest import OPERATOR, auth, future_slot


def order(**changes):
    return {"side": "buy", "slot": future_slot(), "kwh": "1.5", "limit_price": "20", **changes}


@pytest.mark.parametrize("field,value,rule", [
    ("slot", "9999-12-31T23:30:00Z", "horizon"),
    ("slot", "2026-11-28t13:00:00z", "ISO 8601"),
    ("slot", "0.5", "ISO 8601"),
    ("slot", "1970-01-01T00:00:00Z", "before 2000"),
    ("kwh", "1_000", "plain decimal"),
    ("kwh", "１２", "plain decimal"),
    ("kwh", "1e3", "plain decimal"),
    ("kwh", True, "not a boolean"),
    ("kwh", "0", "greater than 0"),
    ("kwh", "1001", "less than or equal to 1000"),
    ("limit_price", "-1", "plain decimal"),
    ("renewable", "yes", "valid boolean"),
    ("order_id", "a\x00b", "pattern"),
    ("order_id", "../etc", "pattern"),
    ("order_id", "x" * 65, "pattern"),
    ("site", "a/b", "pattern"),
    ("preferred_partners", ["ok"] * 21, "at most 20"),
])
def test_lenient_values_are_refused_naming_field_and_rule(client, bus, field, value, rule):
    """Each value Python would stretch to fit is a 422 whose message names the field and the rule."""
    r = client.post("/v1/energy/orders", json=order(**{field: value}), headers=auth("home-1"))
    assert r.status_code == 422, r.text
    message = r.json()["message"]
    assert f"body.{field}" in message and rule in message, message
    assert bus.events(ORDERS) == []


@pytest.mark.parametrize("query", ["slot=0.5", "slot=2099-01-01T00:10:00Z", "slot=2099-01-01T00:00:00",
                                   "slot=9999-12-31T23:30:00Z", ""])
def test_cancel_with_a_bad_slot_is_422_not_500(client, query):
    """DELETE with slot=0.5, a slot off the half hour, without a zone or missing: 422 naming query.slot."""
    r = client.delete(f"/v1/energy/orders/o1?{query}", headers=auth("home-1"))
    assert r.status_code == 422, r.text
    assert "query.slot" in r.json()["message"]


def test_huge_preferred_partners_is_413_not_500(client, bus):
    """A 300,000-item list is refused as an oversize body before anything reaches the broker."""
    r = client.post("/v1/energy/orders", json=order(preferred_partners=["p"] * 300_000), headers=auth("home-1"))
    assert r.status_code == 413 and "limit" in r.json()["message"]
    assert bus.events(ORDERS) == []


def test_chunked_oversize_body_is_413(client):
    """A body sent without a length is counted as it arrives and refused past the limit."""
    def chunks():
        for _ in range(200):
            yield b" " * 1024

    headers = {**auth("home-1"), "content-type": "application/json"}
    r = client.post("/v1/energy/orders", content=chunks(), headers=headers)
    assert r.status_code == 413


@pytest.mark.parametrize("slot,status", [
    ("0001-01-01T00:00:00Z", 422), ("1970-01-01T00:00:00Z", 422), ("9999-12-31T23:30:00Z", 422),
    ("2020-01-01T10:00:00Z", 409),
])
def test_operator_cannot_close_slots_out_of_range_or_begun(client, bus, slot, status):
    """Closing year 1, 1970, 9999 is a 422; closing a slot that has begun is a 409 (already closed)."""
    r = client.post(f"/v1/operator/slots/{slot}/close", headers=OPERATOR)
    assert r.status_code == status, r.text
    assert bus.events(ORDERS) == []


def test_operator_closes_a_future_slot(client, bus):
    """A slot ahead within the horizon closes (200) and GateClosed is published."""
    r = client.post(f"/v1/operator/slots/{future_slot()}/close", headers=OPERATOR)
    assert r.status_code == 200, r.text
    assert len(bus.events(ORDERS)) == 1


@pytest.mark.parametrize("query,field", [
    ("start=2026-12-01T00:00:00Z&end=2026-11-01T00:00:00Z", "query.start"),
    ("start=0.5", "query.start"), ("end=yesterday", "query.end"), ("format=pdf", "query.format"),
])
def test_statement_period_is_checked(client, query, field):
    """A statement whose start is after its end, or whose times are not ISO 8601, is a 422."""
    r = client.get(f"/v1/ledger/statement?{query}", headers=auth("home-1"))
    assert r.status_code == 422 and field in r.json()["message"], r.text


@pytest.mark.parametrize("share", ["", "1_0", "2", "-0.1", "abc"])
def test_renewable_share_is_strict(client, share):
    """share must be a plain decimal in 0..1."""
    r = client.get(f"/v1/ledger/renewable-target?share={share}", headers=auth("home-1"))
    assert r.status_code == 422 and "query.share" in r.json()["message"]


def test_a_valid_order_still_passes(client, bus):
    """The strict rules keep the ordinary order working (JSON numbers too)."""
    r = client.post("/v1/energy/orders", json=order(kwh=1.5, limit_price=20, renewable=False), headers=auth("home-1"))
    assert r.status_code == 202, r.text
    [event] = bus.events(ORDERS)
    assert str(event.kwh) == "1.5"


def test_the_order_horizon_is_the_one_the_gateway_is_handed(bus, ledger):
    """The gateway refuses orders beyond the horizon its composition root hands it (the market's
    CITYMATCH_MARKET_HORIZON_DAYS): five days ahead is refused by default and accepted with a week."""
    from datetime import timedelta

    from fastapi.testclient import TestClient

    from services.gateway.bootstrap import build_gateway
    from services.gateway.publisher import BusPublisher
    from services.settlement.views import LedgerReader

    from .conftest import SETTINGS

    five_days = order(slot=future_slot(hours=5 * 24))
    default = TestClient(build_gateway(SETTINGS, publisher=BusPublisher(bus), ledger=LedgerReader(ledger)))
    refused = default.post("/v1/energy/orders", json=five_days, headers=auth("home-1"))
    assert refused.status_code == 422 and "more than 2 days ahead" in refused.json()["message"]
    week = TestClient(build_gateway(SETTINGS, publisher=BusPublisher(bus), ledger=LedgerReader(ledger),
                                    order_horizon=timedelta(days=7)))
    assert week.post("/v1/energy/orders", json=five_days, headers=auth("home-1")).status_code == 202
    assert len(bus.events(ORDERS)) == 1
