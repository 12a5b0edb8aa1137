"""Expired or wrong-role tokens get 401/403 with the reason; the schema declares the bearer scheme."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.auth import issue_token

from .conftest import OPERATOR, auth, future_slot

ORDER = {"side": "buy", "kwh": "1", "limit_price": "20"}


def test_expired_token_is_401_with_the_reason(client):
    """An app-user token past its expiry is refused with 401 saying when it expired."""
    old = issue_token("unit-secret", "home-1", ttl=timedelta(hours=1), now=datetime.now(UTC) - timedelta(hours=2))
    r = client.get("/v1/energy/trades", headers={"Authorization": f"Bearer {old}"})
    assert r.status_code == 401 and "expired at" in r.json()["message"]
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_operator_routes_refuse_app_users_and_devices_with_403(client):
    """An app-user or device token on an operator route: 403 naming the role needed and the role held."""
    for role in ("app-user", "device"):
        r = client.get("/v1/operator/ledger/verify", headers=auth("home-1", role=role))
        assert r.status_code == 403 and f"has role {role}" in r.json()["message"] and "operator" in r.json()["message"]


def test_operator_role_token_opens_operator_routes(client):
    """A token with role operator (not only the configured secret) may use operator routes."""
    assert client.get("/v1/operator/ledger/verify", headers=auth("ops-kenji", role="operator")).status_code == 200
    assert client.get("/v1/operator/ledger/verify", headers=OPERATOR).status_code == 200


def test_participant_routes_refuse_the_operator(client):
    """The operator's token cannot place orders or read a participant's ledger (403, with the reason)."""
    r = client.post("/v1/energy/orders", json={**ORDER, "slot": future_slot()}, headers=OPERATOR)
    assert r.status_code == 403 and "operator" in r.json()["message"]
    r = client.get("/v1/ledger/balance", headers=auth("ops-kenji", role="operator"))
    assert r.status_code == 403


def test_devices_place_orders_but_do_not_read_ledgers(client):
    """A device agent's token places orders; reading the owner's statement needs an app-user token."""
    r = client.post("/v1/energy/orders", json={**ORDER, "slot": future_slot()}, headers=auth("home-1", role="device"))
    assert r.status_code == 202, r.text
    r = client.get("/v1/ledger/statement", headers=auth("home-1", role="device"))
    assert r.status_code == 403 and "app-user" in r.json()["message"]


def test_schema_declares_bearer_security(app):
    """The OpenAPI document declares an HTTP bearer scheme and protected routes require it."""
    schema = app.openapi()
    [scheme] = schema["components"]["securitySchemes"].values()
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    assert schema["paths"]["/v1/energy/orders"]["post"]["security"]
    assert "security" not in schema["paths"]["/health"]["get"]
