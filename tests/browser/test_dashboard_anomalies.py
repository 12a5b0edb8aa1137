"""The dashboard's city's-eye panel in headless Chromium: anomalies published on city.anomalies (a crowd surge
at a chokepoint, a mask surge and stock-out at a pharmacy) are listed newest first with their evidence, in
Japanese and English, once an operator has signed in with username and password; nothing leaves 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import httpx
import pytest

from services.gateway.anomalies import BusAnomalies
from services.gateway.bootstrap import build_gateway
from services.gateway.publisher import BusPublisher
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus
from shared.contracts.crowd import ANOMALIES, CrowdAnomalyDetected
from shared.contracts.logistics import StockAnomalyDetected
from shared.settings import Settings

from .test_dashboard_campaign_controls import dashboard_accounts, sign_in_dashboard
from .test_web_pages import SCREENSHOTS, _context, _watch, serve

pytestmark = pytest.mark.browser
TOKEN = "operator-anomaly-token"


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory) -> Iterator[tuple[str, InProcessBus]]:
    bus = InProcessBus()
    ledger = LedgerReader(open_ledger(f"sqlite:///{tmp_path_factory.mktemp('eye') / 'ledger.sqlite'}"))
    settings = Settings(operator_token=TOKEN)
    app = build_gateway(settings, publisher=BusPublisher(bus), ledger=ledger, anomalies=BusAnomalies(bus),
                        accounts=dashboard_accounts(settings))
    with serve(app) as base:
        yield base, bus


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p, tmp_path_factory.mktemp("profile")


def test_anomalies_are_listed_with_their_evidence(dashboard, browser):
    base, bus = dashboard
    minute = datetime(2026, 12, 2, 8, 5, tzinfo=UTC)
    bus.publish(ANOMALIES, CrowdAnomalyDetected(zone="odakyu_gates", minute_start=minute, kind="surge", observed=912,
                                                expected=301.5, robust_z=9.4))
    for kind, observed, expected, z, evidence in (
            ("surge", 200, 21.0, 121.4, "sold 200 against a median of 21.0 over the last 14 days (robust z 121.4)"),
            ("stockout", 0, 21.0, -14.0, "no stock left at closing while the usual day sells 21")):
        bus.publish(ANOMALIES, StockAnomalyDetected(kind=kind, shop="vinawalk-pharmacy", item="masks",
                                                    day=date(2020, 2, 17), observed=observed, expected=expected,
                                                    robust_z=z, evidence=evidence))
    bus.publish(ANOMALIES, StockAnomalyDetected(kind="surge", shop="vinawalk-pharmacy", item="masks",  # redelivered
                                                day=date(2020, 2, 17), observed=200, expected=21.0, robust_z=121.4,
                                                evidence="sold 200 against a median of 21.0 over the last 14 days "
                                                         "(robust z 121.4)"))
    api = httpx.get(f"{base}/v1/operator/anomalies", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert [(a["source"], a["kind"]) for a in api] == [("shops", "stockout"), ("shops", "surge"), ("crowd", "surge")]
    assert httpx.get(f"{base}/v1/operator/anomalies").status_code == 401

    context = _context(browser, locale="ja-JP", viewport={"width": 1280, "height": 1200})
    page = context.new_page()
    strays = _watch(page, base)
    page.goto(f"{base}/dashboard/")
    sign_in_dashboard(page, "ops-hanako")
    page.wait_for_selector("#anomaly-rows tr", timeout=15000)
    rows = page.locator("#anomaly-rows tr")
    assert rows.count() == 3
    assert "品切れ" in rows.nth(0).text_content() and "vinawalk-pharmacy · masks" in rows.nth(0).text_content()
    assert "200 個販売（直近14日の中央値 21 個、ロバストz 121.4）" in rows.nth(1).text_content()
    assert rows.nth(1).get_attribute("title").startswith("sold 200 against a median of 21.0")
    assert "odakyu_gates" in rows.nth(2).text_content() and "人流" in rows.nth(2).text_content()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#anomalies-card").screenshot(path=str(SCREENSHOTS / "dashboard_anomalies_ja.png"))
    page.click("#lang-switch")
    page.wait_for_function("() => document.querySelector('#anomaly-rows').textContent.includes('stock-out')")
    assert "912 walkers in a minute against 301.5 usually" in page.locator("#anomaly-rows tr").nth(2).text_content()
    assert strays == []
    context.close()
