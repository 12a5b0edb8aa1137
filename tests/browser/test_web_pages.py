"""The app and the dashboard in a real headless Chromium, with every host but 127.0.0.1 unreachable.

The gateway runs on uvicorn on a free local port, over the in-process bus and a SQLite ledger holding one
trade; screenshots of each page are kept in reports/screenshots/.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import uvicorn

from services.gateway.app import create_app
from services.gateway.publisher import BusPublisher
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus
from shared.contracts.energy import TradeMatched
from shared.settings import REPO_ROOT, Settings

SCREENSHOTS = REPO_ROOT / "reports" / "screenshots"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]
CHOKEPOINTS_JA = {"小田急線改札", "相鉄線改札", "JR線改札", "東西自由通路", "東口デッキ", "西口デッキ"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def gateway(tmp_path_factory) -> Iterator[tuple[str, Settings]]:
    """The gateway on 127.0.0.1 with a ledger holding one trade between home-pv-01 and home-01."""
    settings = Settings()
    ledger = open_ledger(f"sqlite:///{tmp_path_factory.mktemp('web') / 'ledger.sqlite'}", bytes(range(32)))
    ledger.record_trade(TradeMatched(
        trade_id="t-web-1", slot=datetime(2026, 5, 20, 3, 0, tzinfo=UTC), seller="home-pv-01", buyer="home-01",
        kwh=Decimal("1.250"), price=Decimal("18.40"), tier="B", wheeling_fee=Decimal("10.00"), renewable=True,
        seller_site=None))
    app = create_app(settings, BusPublisher(InProcessBus([])), LedgerReader(ledger))
    # home-01's account (an operator binds it to the existing participant)
    app.state.gateway.accounts.create("home01", "home-01-Pass!", "app-user", participant="home-01")
    with serve(app) as base:
        yield base, settings


@contextmanager
def serve(app) -> Iterator[str]:
    """``app`` on uvicorn on a free port of 127.0.0.1, in a thread, until the block ends; yields its base URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _chromium() -> str:
    found = subprocess.run(["bash", str(REPO_ROOT / "infra" / "browser.sh"), "path"], capture_output=True, text=True)
    assert found.returncode == 0, "no Chromium: `bash infra/browser.sh install` (make test runs it)"
    return found.stdout.strip()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p, tmp_path_factory.mktemp("profile")


def _context(browser, **kwargs):
    p, profile = browser
    return p.chromium.launch_persistent_context(str(profile / str(time.monotonic_ns())), executable_path=_chromium(),
                                                args=FLAGS, **kwargs)


def _phone(browser):
    """A Japanese phone: 390 x 844, touch, twice the pixel density (and the screenshot folder made)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return _context(browser, locale="ja-JP", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                    device_scale_factor=2)


def _watch(page, base: str) -> list[str]:
    """Every request the page makes that does not go to the gateway."""
    strays: list[str] = []
    page.on("request", lambda r: None if r.url.startswith((base, "data:")) else strays.append(r.url))
    return strays


def _boxes_overlap(page, selector: str) -> list[tuple[str, str]]:
    return page.evaluate("""sel => {
        const els = [...document.querySelectorAll(sel)].map(e => [e.textContent, e.getBoundingClientRect()]);
        const out = [];
        for (let i = 0; i < els.length; i++) for (let j = i + 1; j < els.length; j++) {
            const [ta, a] = els[i], [tb, b] = els[j];
            if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) out.push([ta, tb]);
        }
        return out;
    }""", selector)


def test_dashboard_draws_the_station_area_map_offline(gateway, browser):
    """The dashboard, in Japanese for a Japanese browser, draws the walking network, the rail lines and the seven
    chokepoints with labels that do not overlap; the English switch renames them; nothing leaves 127.0.0.1."""
    base, _ = gateway
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = _context(browser, locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    strays = _watch(page, base)
    response = page.goto(f"{base}/dashboard/")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector("body[data-map-ready='yes']", timeout=15_000)
    assert page.evaluate("document.documentElement.lang") == "ja"
    assert page.locator("#map path.chokepoint").count() == 7
    assert page.locator("#map path.walk").count() > 100 and page.locator("#map path.rail").count() >= 3
    labels = set(page.locator("#map text.label").all_text_contents())
    assert labels >= CHOKEPOINTS_JA
    assert _boxes_overlap(page, "#map text.label") == []
    assert page.locator("#status-list li[data-check='bus']").count() == 1
    assert page.locator("#chokepoint-rows tr").count() == 7
    page.screenshot(path=str(SCREENSHOTS / "dashboard_ja.png"), full_page=True)
    page.click("#lang-switch")
    assert page.evaluate("document.documentElement.lang") == "en"
    labels = set(page.locator("#map text.label").all_text_contents())
    assert {"Odakyu gate line", "Sotetsu gate line", "JR gate line"} <= labels
    assert _boxes_overlap(page, "#map text.label") == []
    page.screenshot(path=str(SCREENSHOTS / "dashboard_en.png"), full_page=True)
    assert strays == []
    context.close()


def test_app_on_a_phone_shows_my_trades(gateway, browser):
    """On a phone-sized screen the app fits the width, signs in with the user's username and password and lists
    the user's trade in Japanese (local slot time, the counterparty in words, yen and kWh)."""
    base, _ = gateway
    context = _phone(browser)
    page = context.new_page()
    strays = _watch(page, base)
    page.goto(f"{base}/app/")
    assert page.locator("#signin").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "app_phone_signin_ja.png"), full_page=True)
    page.fill("#signin-username", "home01")
    page.fill("#signin-password", "home-01-Pass!")
    page.click("#signin-form button[type='submit']")
    page.wait_for_selector("#trade-rows tr", timeout=15_000)
    cells = page.locator("#trade-rows tr").first.locator("td").all_text_contents()
    assert cells[0].endswith("12:00–12:30") and cells[1] == "購入元 home-pv-01"
    assert cells[2] == "1.250" and cells[3] == "18.40"
    assert page.locator("#who").text_content() == "home01"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 16
    page.screenshot(path=str(SCREENSHOTS / "app_phone_trades_ja.png"), full_page=True)
    assert strays == []
    context.close()


def test_web_assets_are_only_the_pages_files(gateway):
    """Assets are served from the web folder only: unknown names and paths out of it are 404."""
    import httpx

    base, _ = gateway
    assert httpx.get(f"{base}/web/map.js").status_code == 200
    assert httpx.get(f"{base}/web/map.geojson").json()["type"] == "FeatureCollection"
    for name in ("nothing.js", "..%2Fapp.py", "app.html", "%2e%2e%2frouters%2fweb.py"):
        assert httpx.get(f"{base}/web/{name}").status_code == 404, name
    assert Path(REPO_ROOT / "services" / "gateway" / "web" / "app.html").exists()
