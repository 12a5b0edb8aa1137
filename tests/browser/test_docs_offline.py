"""/docs and /redoc render with the network closed: Debian's Chromium (driven by Playwright) resolves no host
but 127.0.0.1, and every request the pages make goes to the gateway itself."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import httpx
import pytest
import uvicorn

from services.gateway.app import create_app
from services.gateway.publisher import BusPublisher
from services.localstack import free_port
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus
from shared.settings import Settings

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]


@pytest.fixture(scope="module")
def gateway_url() -> Iterator[str]:
    app = create_app(Settings(token_secret="browser-secret", operator_token="op"), BusPublisher(InProcessBus()),
                     LedgerReader(open_ledger("sqlite://")))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian's chromium is missing: run `make browser`"
    profile = tempfile.mkdtemp(prefix="citymatch-chromium-")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


def _open(browser, url: str):
    page = browser.new_page()
    hosts: list[str] = []
    failed: list[str] = []
    page.on("request", lambda r: hosts.append(urlparse(r.url.removeprefix("blob:")).hostname or r.url))
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto(url, wait_until="networkidle")
    return page, hosts, failed


def test_swagger_ui_lists_the_operations_offline(browser, gateway_url):
    """Swagger UI renders every area's operations and an Authorize button, loading nothing from outside."""
    page, hosts, failed = _open(browser, f"{gateway_url}/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
    text = page.inner_text("body")
    for path in ("/v1/energy/orders", "/v1/ledger/statement", "/v1/operator/slots/{slot}/close", "/ready"):
        assert path in text, path
    assert page.locator(".btn.authorize").count() == 1
    assert set(hosts) == {"127.0.0.1"}, hosts
    assert failed == []


def test_redoc_renders_offline(browser, gateway_url):
    """ReDoc renders the operations from the packaged script, without web fonts or a CDN."""
    page, hosts, failed = _open(browser, f"{gateway_url}/redoc")
    page.wait_for_selector("h2:has-text('Place Order')", timeout=20_000)
    text = page.inner_text("body")
    assert "/v1/energy/orders" in text and "Close Gate" in text
    assert set(hosts) == {"127.0.0.1"}, hosts
    assert failed == []
