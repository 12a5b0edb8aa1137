"""The dashboard's simulator panel in headless Chromium: a planner signs in (session.js, the dashboard's own
session), launches a small scenario, sees its progress bar move to done, opens the report (the simulator's
page, its style sheet applied and its plots drawn under the pages' policy) and cancels a second run; in
Japanese and English; nothing leaves 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from services.gateway.app import create_app
from services.gateway.publisher import BusPublisher
from services.gateway.sim_runs import PlannerConfig, SimRunQueue
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus
from shared.settings import Settings

from .test_web_pages import SCREENSHOTS, _context, serve

pytestmark = pytest.mark.browser
PASSWORD = "Planner-Pass-2026!"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory) -> Iterator[tuple[str, SimRunQueue]]:
    queue = SimRunQueue(PlannerConfig(runs_dir=str(tmp_path_factory.mktemp("runs")), concurrent=1))
    ledger = LedgerReader(open_ledger(f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'ledger.sqlite'}"))
    app = create_app(Settings(), BusPublisher(InProcessBus()), ledger, sim_runs=queue)
    accounts = app.state.gateway.accounts
    accounts.create("aiko-planner", PASSWORD, "planner")
    accounts.create("ben-user", PASSWORD, "app-user")
    with serve(app) as base:
        yield base, queue


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p, tmp_path_factory.mktemp("profile")


def _sign_in(page, username: str) -> int:
    return page.evaluate("async ([u, p]) => (await signIn(u, p)).status", [username, PASSWORD])


def test_a_planner_launches_a_run_follows_it_and_opens_its_report(gateway, browser):
    base, queue = gateway
    context = _context(browser, locale="ja-JP", viewport={"width": 1280, "height": 1400})
    strays: list[str] = []  # every request of every page (the report's tab too) that is not the gateway's
    context.on("request", lambda r: None if r.url.startswith((base, "data:")) else strays.append(r.url))
    page = context.new_page()
    policy_errors: list[str] = []
    context.on("console", lambda m: policy_errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{base}/dashboard/")
    page.wait_for_function("() => document.body.dataset.mapReady === 'yes'")
    assert page.locator("#sim-card").is_hidden()  # nobody signed in

    # an app user's session does not open the panel
    assert _sign_in(page, "ben-user") == 200
    assert page.locator("#sim-card").is_hidden()
    assert page.evaluate("() => sessionStorage.getItem('citymatch.session.app')") is None
    assert page.evaluate("() => JSON.parse(sessionStorage.getItem('citymatch.session.dashboard')).account.role") \
        == "app-user"

    assert _sign_in(page, "aiko-planner") == 200
    page.wait_for_function("() => document.getElementById('sim-card').dataset.ready === 'yes'")
    assert page.locator("#sim-card").is_visible()
    assert page.locator("#sim-card h2").first.text_content() == "シミュレーター"
    options = page.locator("#sim-scenario option")
    assert options.count() == 3 and "平日" in page.locator("#sim-scenario option:checked").text_content()
    assert page.locator("#sim-empty").is_visible()

    page.select_option("#sim-kind", "scenario")
    page.select_option("#sim-scenario", "ebina_weekday")
    page.fill("#sim-agents", "20000")
    page.fill("#sim-seed", "4")
    page.click("#sim-form button[type='submit']")
    page.wait_for_selector("#sim-rows tr[data-state]")
    run_id = page.locator("#sim-rows tr").first.get_attribute("data-run")
    # every value the bar shows, as the page redraws it
    seen: list[tuple[str, str, str]] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        row = page.locator(f"#sim-rows tr[data-run='{run_id}']")
        sample = (row.get_attribute("data-state"), row.locator("progress").get_attribute("data-minutes"),
                  row.locator("progress").get_attribute("data-total"))
        if not seen or seen[-1] != sample:
            seen.append(sample)
        if sample[0] in ("done", "failed", "cancelled"):
            break
        time.sleep(0.05)
    assert seen[-1] == ("done", "2880", "2880"), seen
    # followed while it ran: the bar redrawn at least twice before done, and only forward
    assert len([s for s in seen if s[0] in ("queued", "running")]) >= 2, seen
    minutes = [int(s[1]) for s in seen]
    assert minutes == sorted(minutes)
    row = page.locator(f"#sim-rows tr[data-run='{run_id}']")
    assert row.locator("progress").evaluate("b => b.value === b.max && b.max === 2880")
    assert "完了" in row.locator("td.sim-state").text_content()
    assert "20,000" in row.text_content() and "シード 4" in row.text_content()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#sim-card").screenshot(path=str(SCREENSHOTS / "dashboard_simulator_ja.png"))

    with context.expect_page() as opened:
        row.locator("a.sim-report").click()
    report = opened.value
    report.wait_for_load_state("load")
    assert report.url.startswith(f"{base}/v1/planner/sim/runs/{run_id}/report?ticket=")
    assert report.title() == "Ebina simulation: ebina_weekday"
    assert report.locator(".headline .card").count() >= 4  # the headline figures
    # the sheet beside the page is applied (no inline style under the policy) and the plots are drawn
    assert report.evaluate("() => getComputedStyle(document.body).maxWidth") == "1160px"
    assert report.evaluate("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    assert report.evaluate("() => document.images.length") >= 3
    report.screenshot(path=str(SCREENSHOTS / "simulator_report.png"))
    report.close()

    # a second, larger run: cancelled from the panel
    page.fill("#sim-agents", "120000")
    page.click("#sim-form button[type='submit']")
    page.wait_for_function(f"() => [...document.querySelectorAll('#sim-rows tr')].some(r => r.dataset.run !== "
                           f"'{run_id}' && r.querySelector('button.sim-cancel'))")
    second = page.locator(f"#sim-rows tr:not([data-run='{run_id}'])").first
    second.locator("button.sim-cancel").click()
    page.wait_for_function(f"() => [...document.querySelectorAll('#sim-rows tr')].some(r => r.dataset.run !== "
                           f"'{run_id}' && r.dataset.state === 'cancelled')")
    assert "取り消し済み" in page.locator(f"#sim-rows tr:not([data-run='{run_id}'])").first.text_content()

    page.click("#lang-switch")
    page.wait_for_function("() => document.querySelector('#sim-rows').textContent.includes('Open the report')")
    assert page.locator("#sim-card h2").first.text_content() == "Simulator"
    assert "done" in page.locator(f"#sim-rows tr[data-run='{run_id}'] td.sim-state").text_content()
    assert page.locator("#sim-launched").text_content() == "Queued: runs start in turn."
    page.locator("#sim-card").screenshot(path=str(SCREENSHOTS / "dashboard_simulator_en.png"))
    assert strays == [] and policy_errors == []
    assert [r.state for r in queue.runs()] == ["cancelled", "done"]
    context.close()
