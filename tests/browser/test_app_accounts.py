"""The app with accounts, in headless Chromium with every host but 127.0.0.1 unreachable: sign up, sign in,
the statement as a bill, a "verified" badge checked in the browser against the published anchors file,
a tampered proof shown as failed, retiring a certificate, refreshing before expiry, signing out.

The gateway runs on uvicorn over the in-process bus with the settlement service and a SQLite ledger; the
trades are recorded through the ledger's own writer and anchored as the settlement service anchors them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from services.gateway.accounts.passwords import Passwords, cheap_hasher
from services.gateway.accounts.service import Accounts
from services.gateway.accounts.store import open_store
from services.gateway.bootstrap import build_gateway
from services.gateway.publisher import BusPublisher
from services.settlement.anchor_file import AnchorFile
from services.settlement.bootstrap import build_settlement
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus
from shared.contracts.energy import TradeMatched
from shared.settings import REPO_ROOT, Settings

from .test_web_pages import SCREENSHOTS, _context, _phone, _watch, serve

pytestmark = pytest.mark.browser
PASSWORD = "green-kWh-2026"
ANCHORED_SLOT = datetime(2026, 5, 20, 3, 0, tzinfo=UTC)
LATER_SLOT = datetime(2026, 5, 20, 4, 0, tzinfo=UTC)


class Site:
    def __init__(self, base: str, ledger, anchors: AnchorFile, accounts: Accounts) -> None:
        self.base, self.ledger, self.anchors, self.accounts = base, ledger, anchors, accounts

    def trade(self, trade_id: str, slot: datetime, buyer: str, seller: str = "home-pv-01", kwh: str = "1.250",
              renewable: bool = True) -> None:
        self.ledger.record_trade(TradeMatched(
            trade_id=trade_id, slot=slot, seller=seller, buyer=buyer, kwh=Decimal(kwh), price=Decimal("18.40"),
            tier="B", wheeling_fee=Decimal("10.00"), renewable=renewable, seller_site=None))

    def anchor(self) -> None:
        """What the settlement service's timer does: anchor the slots that gained entries, publish the roots."""
        self.ledger.anchor_pending()
        self.anchors.publish(self.ledger)

    def published(self) -> list[dict]:
        return [json.loads(line) for line in self.anchors.path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("app-accounts")
    settings = Settings(ledger_anchors_file=str(folder / "anchors.jsonl"))
    ledger = open_ledger(f"sqlite:///{folder / 'ledger.sqlite'}", bytes(range(32)))
    anchors = AnchorFile(folder / "anchors.jsonl")
    accounts = Accounts(open_store("sqlite://"), settings.token_secret, passwords=Passwords(cheap_hasher()))
    bus = InProcessBus([build_settlement(ledger, anchor_file=anchors)])
    app = build_gateway(settings, publisher=BusPublisher(bus), ledger=LedgerReader(ledger), accounts=accounts)
    with serve(app) as base:
        yield Site(base, ledger, anchors, accounts)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p, tmp_path_factory.mktemp("profile")


def _csp_violations(page) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    return seen


def _sign_in(page, username: str) -> None:
    page.fill("#signin-username", username)
    page.fill("#signin-password", PASSWORD)
    page.click("#signin-form button[type='submit']")
    page.wait_for_selector("body[data-energy-ready='yes']", timeout=15_000)
    page.wait_for_function("() => [...document.querySelectorAll('td.proof')].every(td => td.querySelector('.badge'))",
                           timeout=15_000)


def _badge(page, row: str) -> tuple[str, str]:
    el = page.locator(f"{row} td.proof .badge")
    return el.get_attribute("data-state"), el.text_content()


def test_sign_up_sign_in_bill_and_verified_badges(site, browser):
    """A resident signs up and in on a phone, reads the bill in Japanese, sees "検証済み" on an anchored trade
    and certificate with the anchor it was checked against, "未アンカー" on a trade not anchored yet, retires
    the certificate (200, then 409 on a second try), and signs out (the refresh token then stops working)."""
    base = site.base
    context = _phone(browser)
    page = context.new_page()
    strays, csp = _watch(page, base), _csp_violations(page)
    page.goto(f"{base}/app/")
    page.click("#signup summary")
    page.fill("#signup-username", "a")
    page.fill("#signup-password", PASSWORD)
    page.click("#signup-form button[type='submit']")
    page.wait_for_selector("#signup-message.error")
    assert "body.username" in page.locator("#signup-message").text_content()
    page.fill("#signup-username", "Hanako")
    page.click("#signup-form button[type='submit']")
    page.wait_for_selector("#signup-message.ok")
    assert page.locator("#signin-username").input_value() == "hanako"
    page.screenshot(path=str(SCREENSHOTS / "app_signup_ja.png"), full_page=True)

    hanako = site.accounts.store.by_username("hanako").subject
    site.trade("t-app-1", ANCHORED_SLOT, buyer=hanako)
    site.trade("t-app-2", ANCHORED_SLOT, buyer="home-02", kwh="0.500")  # a neighbour: the path has a sibling
    site.trade("t-app-3", ANCHORED_SLOT, buyer="home-03", kwh="0.700", renewable=False)
    site.anchor()
    site.trade("t-app-4", LATER_SLOT, buyer=hanako, kwh="2.000", renewable=False)  # settled, not yet anchored

    page.fill("#signin-password", "not-the-password")
    page.fill("#signin-username", "hanako")
    page.click("#signin-form button[type='submit']")
    page.wait_for_function("() => document.querySelector('#signin-message').textContent.length > 0")
    assert "パスワードが違います" in page.locator("#signin-message").text_content()
    _sign_in(page, "hanako")
    assert page.locator("#who").text_content() == "hanako"

    bill = dict(zip(page.locator("#bill-rows th").all_text_contents(),
                    page.locator("#bill-rows td").all_text_contents(), strict=True))
    assert bill["購入電力量"] == "3.250 kWh" and bill["売電量"] == "0.000 kWh"
    assert "お支払い合計" in bill and bill["お支払い合計"].endswith("円")
    assert bill["再エネ証書"] == "1.250 kWh"

    [root] = [a["merkle_root"] for a in site.published() if a["slot"].startswith("2026-05-20T03:00")]
    state, text = _badge(page, "#trade-rows tr[data-trade='t-app-1']")
    assert state == "verified" and "検証済み" in text and root[:12] in text and "12:00–12:30" in text
    state, text = _badge(page, "#trade-rows tr[data-trade='t-app-4']")
    assert state == "pending" and "未アンカー" in text
    cells = page.locator("#trade-rows tr[data-trade='t-app-1'] td").all_text_contents()
    assert cells[1] == "購入元 home-pv-01" and cells[2] == "1.250" and cells[3] == "18.40"
    state, text = _badge(page, "#cert-rows tr[data-cert='REC-t-app-1']")
    assert state == "verified" and root[:12] in text
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(SCREENSHOTS / "app_my_energy_verified_ja.png"), full_page=True)

    page.fill("#retire-target", "ebina-home-2026")
    page.click("#cert-rows tr[data-cert='REC-t-app-1'] button.retire")
    page.wait_for_selector("#retire-message[data-status='200']", timeout=10_000)
    assert "台帳に記録しました" in page.locator("#retire-message").text_content()
    page.wait_for_function("() => document.querySelector(\"#cert-rows tr[data-cert='REC-t-app-1']\")"
                           ".textContent.includes('使用済み: ebina-home-2026')")
    page.evaluate("retire('REC-t-app-1')")  # a second retirement of the same certificate
    page.wait_for_selector("#retire-message[data-status='409']", timeout=10_000)
    assert "すでに使用済み" in page.locator("#retire-message").text_content()
    page.evaluate("retire('REC-t-nobody')")
    page.wait_for_selector("#retire-message[data-status='404']", timeout=10_000)
    page.screenshot(path=str(SCREENSHOTS / "app_retired_ja.png"), full_page=True)

    refresh_token = page.evaluate("currentSession().refresh_token")
    page.click("#signout")
    page.wait_for_selector("#signin", state="visible")
    assert page.evaluate("sessionStorage.length") == 0
    r = httpx.post(f"{base}/v1/auth/refresh", json={"refresh_token": refresh_token})
    assert r.status_code == 401 and "revoked" in r.json()["message"]
    assert strays == [] and csp == []
    context.close()


def test_a_tampered_proof_shows_failure(site, browser):
    """The same trade, its proof altered on the way (an amount in the body, or a sibling hash): the browser's
    own check fails and says so; in English the good proof reads "verified"."""
    base = site.base
    if site.accounts.store.by_username("taro") is None:
        site.accounts.sign_up("taro", PASSWORD)
    taro = site.accounts.store.by_username("taro").subject
    site.trade("t-taro-1", datetime(2026, 5, 21, 3, 0, tzinfo=UTC), buyer=taro)
    site.trade("t-taro-2", datetime(2026, 5, 21, 3, 0, tzinfo=UTC), buyer="home-09")
    site.anchor()
    for tamper, reason in ((lambda p: p["entry"].__setitem__("body", p["entry"]["body"].replace("1.250", "0.250")),
                            "entry hash"),
                           (lambda p: p.__setitem__("proof", ["0" * 64, *p["proof"][1:]]), "published anchor")):
        context = _context(browser, locale="ja-JP", viewport={"width": 390, "height": 844})
        page = context.new_page()

        def altered(route, _request, tamper=tamper):
            response = route.fetch()
            proof = response.json()
            tamper(proof)
            route.fulfill(response=response, body=json.dumps(proof))

        page.route(re.compile(r".*/v1/ledger/proofs/trades/t-taro-1$"), altered)
        page.goto(f"{base}/app/")
        _sign_in(page, "taro")
        state, text = _badge(page, "#trade-rows tr[data-trade='t-taro-1']")
        assert state == "failed" and "検証失敗" in text and reason in text, text
        page.screenshot(path=str(SCREENSHOTS / "app_proof_failed_ja.png"), full_page=True)
        context.close()
    context = _context(browser, locale="en-US", viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/app/")
    _sign_in(page, "taro")
    state, text = _badge(page, "#trade-rows tr[data-trade='t-taro-1']")
    assert state == "verified" and text.startswith("verified")
    assert page.locator("#bill-rows th").first.text_content() == "Energy bought"
    page.screenshot(path=str(SCREENSHOTS / "app_my_energy_verified_en.png"), full_page=True)
    context.close()


def test_the_session_refreshes_before_the_access_token_expires(site, browser):
    """With the page's clock moved on 14.5 minutes the app refreshes by itself: a new refresh token in the
    tab, the old one refused, and the page still reads the ledger."""
    if site.accounts.store.by_username("aiko") is None:
        site.accounts.sign_up("aiko", PASSWORD)
    context = _context(browser, locale="ja-JP")
    page = context.new_page()
    page.clock.install()
    page.goto(f"{site.base}/app/")
    _sign_in(page, "aiko")
    before = page.evaluate("currentSession().refresh_token")
    page.clock.fast_forward("14:30")
    page.wait_for_function(f"() => currentSession() && currentSession().refresh_token !== {json.dumps(before)}",
                           timeout=10_000)
    r = httpx.post(f"{site.base}/v1/auth/refresh", json={"refresh_token": before})
    assert r.status_code == 401
    assert page.evaluate("authorized('/v1/ledger/balance').then(r => r.status)") == 200
    context.close()


def test_the_browser_check_reproduces_the_format_test_vectors(site, browser):
    """verify.js accepts docs/ledger-format.md's proof of t3 against its saved anchor, and refuses it against
    another root: the page's check is the published format, not the platform's say-so."""
    doc = (REPO_ROOT / "docs" / "ledger-format.md").read_text()
    proof = json.loads(re.search(r"The inclusion proof of `t3`.*?```json\n(.*?)```", doc, re.S).group(1))
    anchor = json.loads(re.search(r"The saved anchor.*?```jsonl\n(.*?)```", doc, re.S).group(1))
    context = _context(browser)
    page = context.new_page()
    page.goto(f"{site.base}/app/")
    page.wait_for_function("() => typeof checkProof === 'function'")
    ok = page.evaluate("([p, a]) => checkProof(p, [a])", [proof, anchor])
    assert ok["state"] == "verified" and ok["anchor"]["anchor_seq"] == 4
    bad = page.evaluate("([p, a]) => checkProof(p, [a])", [proof, {**anchor, "merkle_root": "f" * 64}])
    assert bad["state"] == "failed" and "published anchor" in bad["reason"]
    context.close()
