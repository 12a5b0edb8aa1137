"""Sign-up, OAuth2 sign-in, refresh and sign-out over HTTP; rate limits; operator-made accounts; headers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from services.gateway.accounts.passwords import Passwords, cheap_hasher
from services.gateway.accounts.service import Accounts
from services.gateway.accounts.store import open_store
from services.gateway.app import create_app
from services.gateway.auth_limits import AuthLimits
from services.gateway.publisher import BusPublisher
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus
from shared.errors import ConfigError
from shared.settings import DEV_SECRET, Settings

from .conftest import OPERATOR, SETTINGS, auth

PASSWORD = "green-kWh-2026"


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Seconds:
    t: float = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def seconds():
    return Seconds()


@pytest.fixture
def client(clock, seconds):
    accounts = Accounts(open_store("sqlite://"), SETTINGS.token_secret, passwords=Passwords(cheap_hasher()),
                        clock=clock)
    app = create_app(SETTINGS, BusPublisher(InProcessBus()), LedgerReader(open_ledger("sqlite://")),
                     accounts=accounts)
    app.state.gateway.auth_limits = AuthLimits(clock=seconds)
    return TestClient(app)


def signup(client, username="hanako", password=PASSWORD):
    return client.post("/v1/auth/signup", json={"username": username, "password": password})


def signin(client, username="hanako", password=PASSWORD):
    return client.post("/v1/auth/token", data={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_sign_up_then_sign_in_reads_my_own_ledger(client):
    """A new app user signs up (201), signs in with the OAuth2 form and reads their (empty) balance."""
    r = signup(client, "Hanako")
    assert r.status_code == 201, r.text
    account = r.json()
    assert account["username"] == "hanako" and account["role"] == "app-user"
    r = signin(client)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["token_type"] == "bearer" and answer["expires_in"] == 15 * 60
    assert answer["account"]["account_id"] == account["account_id"]
    assert r.headers["cache-control"] == "no-store"
    me = client.get("/v1/auth/me", headers=bearer(answer["access_token"])).json()
    assert me["participant"] == account["account_id"] and me["role"] == "app-user"
    balance = client.get("/v1/ledger/balance", headers=bearer(answer["access_token"]))
    assert balance.status_code == 200 and balance.json()["participant"] == account["account_id"]


def test_sign_up_rules_answer_422_naming_the_field_and_409_for_a_taken_name(client):
    r = signup(client, password="short")
    assert r.status_code == 422 and r.json()["message"].startswith("body.password: must be at least 10")
    assert r.json()["detail"][0]["loc"] == ["body", "password"]
    r = signup(client, username="a b")
    assert r.status_code == 422 and r.json()["message"].startswith("body.username:")
    r = signup(client, password="hanako-is-me")
    assert r.status_code == 422 and "must not contain the username" in r.json()["message"]
    assert signup(client).status_code == 201
    r = signup(client, username="HANAKO")
    assert r.status_code == 409 and "taken" in r.json()["message"]
    r = client.post("/v1/auth/signup", json={"username": "taro", "password": PASSWORD, "role": "operator"})
    assert r.status_code == 422 and "role" in r.json()["message"]  # sign-up cannot choose a role


def test_wrong_password_is_401_and_says_nothing_about_the_name(client):
    signup(client)
    wrong = signin(client, password="not-the-password")
    unknown = signin(client, username="nobody-here")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["message"] == unknown.json()["message"] == "username or password is wrong"
    r = client.post("/v1/auth/token", data={"username": "hanako"})
    assert r.status_code == 422 and "body.password" in r.json()["message"]


def test_refresh_rotates_the_token(client):
    """Refresh answers new tokens; the old refresh token then fails (401), and reusing it revokes the new one."""
    signup(client)
    first = signin(client).json()
    r = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/v1/ledger/balance", headers=bearer(second["access_token"])).status_code == 200
    r = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 401 and "already used" in r.json()["message"]
    r = client.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 401 and "revoked" in r.json()["message"]


def test_expired_refresh_token_is_401(client, clock):
    signup(client)
    session = signin(client).json()
    clock.now += timedelta(days=31)
    r = client.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert r.status_code == 401 and "expired at" in r.json()["message"]


def test_expired_access_token_is_401(client, clock):
    """The access token from sign-in lapses after 15 minutes (the routes' own expiry check)."""
    signup(client)
    clock.now -= timedelta(minutes=16)
    token = signin(client).json()["access_token"]
    r = client.get("/v1/ledger/balance", headers=bearer(token))
    assert r.status_code == 401 and "expired at" in r.json()["message"]


def test_sign_out_revokes_the_refresh_token(client):
    signup(client)
    session = signin(client).json()
    r = client.post("/v1/auth/signout", json={"refresh_token": session["refresh_token"]})
    assert r.status_code == 200 and r.json() == {"revoked": True}
    r = client.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert r.status_code == 401 and "revoked" in r.json()["message"]
    r = client.post("/v1/auth/signout", json={"refresh_token": session["refresh_token"]})
    assert r.status_code == 200 and r.json() == {"revoked": False}


def test_five_failed_sign_ins_a_minute_then_429_with_retry_after(client, seconds):
    """After 5 failures for one username the 6th attempt, even with the right password, is 429 with
    Retry-After; other usernames are not held up; a minute later the right password works."""
    signup(client)
    signup(client, "taro")
    for _ in range(5):
        seconds.t += 1
        assert signin(client, password="not-the-password").status_code == 401
    r = signin(client)
    assert r.status_code == 429 and r.headers["Retry-After"] == "56" and "failed sign-ins" in r.json()["message"]
    assert signin(client, "taro").status_code == 200
    seconds.t += 56
    assert signin(client).status_code == 200


def test_failed_sign_ins_from_one_address_are_limited_across_usernames(client, seconds):
    """Trying many names from one address: after 20 failures in a minute, 429 for any name."""
    signup(client)
    for i in range(20):
        assert signin(client, f"guess-{i}", "not-the-password").status_code == 401
    r = signin(client)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) == 60
    seconds.t += 61
    assert signin(client).status_code == 200


def test_sign_ups_are_limited_per_address(client, seconds):
    for i in range(10):
        assert signup(client, f"user-{i}").status_code == 201
    r = signup(client, "user-10")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) == 600
    seconds.t += 601
    assert signup(client, "user-10").status_code == 201


def test_operator_creates_accounts_of_every_role(client):
    """Operators create operator, planner and device accounts; the device's token places orders for its owner."""
    r = client.post("/v1/operator/accounts", headers=OPERATOR,
                    json={"username": "ops-kenji", "password": PASSWORD, "role": "operator"})
    assert r.status_code == 201, r.text
    ops = signin(client, "ops-kenji").json()["access_token"]
    r = client.post("/v1/operator/accounts", headers=bearer(ops),
                    json={"username": "meter-home-01", "password": PASSWORD, "role": "device",
                          "participant": "home-01"})
    assert r.status_code == 201 and r.json()["participant"] == "home-01"
    r = client.post("/v1/operator/accounts", headers=bearer(ops),
                    json={"username": "plan-aiko", "password": PASSWORD, "role": "planner"})
    assert r.status_code == 201
    planner = signin(client, "plan-aiko").json()["access_token"]
    r = client.get("/v1/operator/ledger/slots", headers=bearer(planner))
    assert r.status_code == 403 and "has role planner" in r.json()["message"]
    device = signin(client, "meter-home-01").json()["access_token"]
    assert client.get("/v1/auth/me", headers=bearer(device)).json()["participant"] == "home-01"
    r = client.post("/v1/operator/accounts", headers=OPERATOR,
                    json={"username": "meter-2", "password": PASSWORD, "role": "device"})
    assert r.status_code == 422 and r.json()["message"].startswith("body.participant:")
    listed = client.get("/v1/operator/accounts", headers=OPERATOR).json()
    assert {a["username"] for a in listed} == {"ops-kenji", "meter-home-01", "plan-aiko"}


def test_app_users_cannot_manage_accounts_and_disabled_accounts_cannot_sign_in(client):
    account = signup(client).json()
    token = signin(client).json()["access_token"]
    r = client.post("/v1/operator/accounts", headers=bearer(token),
                    json={"username": "evil-op", "password": PASSWORD, "role": "operator"})
    assert r.status_code == 403
    r = client.post(f"/v1/operator/accounts/{account['account_id']}/disable", headers=OPERATOR)
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert signin(client).status_code == 401
    assert client.post("/v1/operator/accounts/u-nobody/disable", headers=OPERATOR).status_code == 404


def test_secure_headers_on_every_kind_of_answer(client):
    """JSON answers, errors, pages and assets all carry the policy: only this origin, no framing, no sniffing."""
    for method, path, kw in [("get", "/health", {}), ("get", "/v1/ledger/balance", {}),
                             ("post", "/v1/auth/signup", {"json": {}}), ("get", "/app/", {}),
                             ("get", "/web/app.js", {}), ("get", "/nowhere", {})]:
        r = getattr(client, method)(path, **kw)
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp, path
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in client.get("/docs").headers["content-security-policy"]


def test_pages_have_no_inline_script_or_style():
    """The pages comply with script-src 'self': no inline <script>, no on* handlers, no style attributes."""
    import re

    from services.gateway.routers.web import WEB_DIR

    for page in WEB_DIR.glob("*.html"):
        html = page.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), page.name
        assert not re.search(r"\son[a-z]+=", html) and " style=" not in html, page.name


def test_the_default_secret_is_refused_outside_development():
    """With CITYMATCH_ENVIRONMENT test or production the default token secret stops the start."""
    for env in ("test", "production"):
        with pytest.raises(ConfigError, match="CITYMATCH_TOKEN_SECRET"):
            Settings.from_env({"CITYMATCH_ENVIRONMENT": env, "CITYMATCH_OPERATOR_TOKEN": "x",
                               "CITYMATCH_INCENTIVES_CODE_SECRET": "y", "CITYMATCH_LEDGER_SIGNING_KEY": "00"})
    assert Settings.from_env({}).token_secret == DEV_SECRET


def test_the_schema_documents_the_auth_routes():
    """The OpenAPI document lists each new route with its status codes (the contract test holds them to it)."""
    schema = create_app(SETTINGS, BusPublisher(InProcessBus()), LedgerReader(open_ledger("sqlite://"))).openapi()
    paths = schema["paths"]
    assert set(paths["/v1/auth/signup"]["post"]["responses"]) >= {"201", "409", "422", "429"}
    assert set(paths["/v1/auth/token"]["post"]["responses"]) >= {"200", "401", "422", "429"}
    assert "application/x-www-form-urlencoded" in paths["/v1/auth/token"]["post"]["requestBody"]["content"]
    assert set(paths["/v1/auth/refresh"]["post"]["responses"]) >= {"200", "401"}
    assert set(paths["/v1/operator/accounts"]["post"]["responses"]) >= {"201", "401", "403", "409", "422"}


def test_role_tokens_still_work_alongside_accounts(client):
    """Tokens issued by `citymatch token` keep working: accounts issue the same kind."""
    assert client.get("/v1/ledger/balance", headers=auth("home-1")).status_code == 200
