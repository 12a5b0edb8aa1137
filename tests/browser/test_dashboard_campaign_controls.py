"""The dashboard with accounts and campaign controls, in headless Chromium with every host but 127.0.0.1
unreachable: an operator signs in with username and password, launches a campaign from the form (field errors
beside the fields they name), sees it in the panel, pauses it, revises a running campaign's budget in the dialog
(a guard below what is committed refused beside its field), stops one, and signs out; a planner sees the map
and no operator panel; an app user is told the page is not theirs and signed out of it.

The gateway runs on uvicorn over the in-process bus with the campaign service, the simulated population
answering, and settlement writing a SQLite ledger; accounts are made through the gateway's Accounts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from services.gateway.accounts.passwords import Passwords, cheap_hasher
from services.gateway.accounts.service import Accounts
from services.gateway.accounts.store import open_store
from services.gateway.app import create_app
from services.gateway.campaign_feed import BusCampaigns
from services.gateway.publisher import BusPublisher
from services.settlement.service import build_service as settlement_service
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.contracts.incentives import CAMPAIGNS, CampaignLaunched, CampaignPaused, CampaignRevised
from shared.settings import Settings

from ..unit.incentives.test_service import NOW, make_bus, seed
from .test_web_pages import SCREENSHOTS, _context, _watch, serve

pytestmark = pytest.mark.browser
PASSWORD = "Ebina-ops-2026!"
ACCOUNTS = {"ops-hanako": "operator", "plan-taro": "planner", "resident-jiro": "app-user"}


def dashboard_accounts(settings: Settings) -> Accounts:
    """Accounts in memory with a cheap hash, and one account per role the dashboard meets."""
    accounts = Accounts(open_store("sqlite://"), settings.token_secret, passwords=Passwords(cheap_hasher()))
    for username, role in ACCOUNTS.items():
        accounts.create(username, PASSWORD, role)
    return accounts




def sign_in_dashboard(page, username: str, password: str = PASSWORD) -> None:
    """Sign in on the dashboard's form and wait until the page shows the role."""
    page.fill("#dash-username", username)
    page.fill("#dash-password", password)
    page.click("#dash-signin-form button[type='submit']")
    page.wait_for_selector(f"body[data-role='{ACCOUNTS[username]}']", timeout=15_000)


def _csp_violations(page) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    return seen


@dataclass
class Site:
    base: str
    bus: object
    core: object


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    bus, core = make_bus()
    ledger = open_ledger(f"sqlite:///{tmp_path_factory.mktemp('controls') / 'ledger.sqlite'}", bytes(range(32)))
    bus.add(settlement_service(ledger))
    seed(bus)
    bus.tick()
    bus.run_until_idle()
    settings = Settings()
    app = create_app(settings, BusPublisher(bus), LedgerReader(ledger), campaigns=BusCampaigns(bus),
                     accounts=dashboard_accounts(settings))
    with serve(app) as base:
        yield Site(base, bus, core)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p, tmp_path_factory.mktemp("profile")


def _row(page, campaign: str):
    return page.locator(f"#campaign-rows tr[data-campaign='{campaign}']")


def _error_for(form, key: str) -> str:
    return form.locator(f"[data-error-for='{key}']").text_content()


def test_an_operator_launches_pauses_revises_and_stops_campaigns(site, browser):
    base = site.base
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = _context(browser, locale="ja-JP", viewport={"width": 1280, "height": 1600})
    page = context.new_page()
    strays, csp = _watch(page, base), _csp_violations(page)
    page.goto(f"{base}/dashboard/")
    page.wait_for_selector("body[data-map-ready='yes']", timeout=15_000)
    assert page.locator("#dash-signin").is_visible()
    for card in ("#ops-card", "#anomalies-card", "#campaigns-card"):
        assert not page.locator(card).is_visible()

    page.fill("#dash-username", "ops-hanako")
    page.fill("#dash-password", "not-the-password")
    page.click("#dash-signin-form button[type='submit']")
    page.wait_for_function("() => document.querySelector('#dash-signin-message').textContent.length > 0")
    assert "パスワードが違います" in page.locator("#dash-signin-message").text_content()
    sign_in_dashboard(page, "ops-hanako")
    assert page.locator("#dash-who").text_content() == "ops-hanako"
    assert page.locator("#dash-role").text_content() == "運用者"
    assert page.evaluate("Object.keys(sessionStorage)") == ["citymatch.session.dashboard"]
    assert page.evaluate("currentSession().account.role") == "operator"
    _row(page, "gates-pm").wait_for(timeout=15_000)
    assert not page.locator("#planner-note").is_visible()

    # The form: prefilled, its place a chokepoint of the map; each error beside the field it names.
    page.click("#campaign-new summary")
    form = page.locator("#campaign-form")
    places = page.locator("#cf-place option").evaluate_all("options => options.map(o => o.value)")
    assert "odakyu_gates" in places and len(places) == len(set(places)) >= 6
    assert page.locator("#cf-daily_budget_yen").input_value() == "50000"
    assert page.locator("#cf-offer-rows tr").count() == 2
    page.select_option("#cf-place", "east_deck")
    place = page.locator("#cf-place").input_value()
    page.fill("#cf-campaign_id", "deck-pm")
    page.fill("#cf-day", NOW.date().isoformat())
    page.fill("#cf-window-start", "16:00")
    page.fill("#cf-window-end", "17:30")
    page.fill("#cf-guard_yen", "20000")
    page.click("#campaign-form button[type='submit']")
    page.wait_for_function("() => document.querySelector(\"[data-error-for='guard_yen']\").textContent.length > 0")
    assert "must be at least daily_budget_yen" in _error_for(form, "guard_yen")
    page.fill("#cf-guard_yen", "150000")
    page.click("#cf-add-offer")
    third = page.locator("#cf-offer-rows tr").nth(2)
    third.locator("[name='offer_id']").fill("cafe20")
    third.locator("[name='kind']").select_option("coupon")
    third.locator("[name='reward_yen']").fill("")
    page.click("#campaign-form button[type='submit']")
    page.wait_for_function("() => document.querySelector(\"[data-error-for='offers.2.reward_yen']\")"
                           ".textContent.length > 0")
    assert _error_for(form, "guard_yen") == ""
    third.locator("[name='reward_yen']").fill("200")
    third.locator("[name='shift_min']").fill("20")
    page.click("#campaign-form button[type='submit']")
    page.wait_for_function("() => document.querySelector(\"[data-error-for='offers.2.shop']\").textContent.length > 0")
    assert "a coupon names the shop" in _error_for(form, "offers.2.shop")
    page.screenshot(path=str(SCREENSHOTS / "dashboard_campaign_form_errors_ja.png"), full_page=True)
    third.locator("[name='shop']").fill("vinawalk-cafe")
    page.click("#campaign-form button[type='submit']")
    _row(page, "deck-pm").wait_for(timeout=15_000)
    assert "キャンペーン deck-pm を開始しました" in page.locator("#campaigns-message").text_content()
    launched = next(e for e in site.bus.events(CAMPAIGNS) if isinstance(e, CampaignLaunched)
                    and e.campaign_id == "deck-pm")
    assert launched.place == place and launched.window == ("16:00", "17:30") and launched.guard_yen == 150_000
    assert launched.operator == "ebina-station-area" and launched.day == NOW.date() and launched.share == 0.1
    assert [o.offer_id for o in launched.offers] == ["early30", "late30", "cafe20"]
    assert launched.offers[2].shop == "vinawalk-cafe" and launched.valid_minutes == 30

    # Pause deck-pm: its row says so and offers Resume instead of Pause.
    _row(page, "deck-pm").locator("button[data-action='pause']").click()
    page.wait_for_selector("#campaign-rows tr[data-campaign='deck-pm'][data-state='paused']", timeout=10_000)
    assert "一時停止中" in _row(page, "deck-pm").locator("td").first.text_content()
    assert _row(page, "deck-pm").locator("button[data-action='resume']").count() == 1
    assert any(isinstance(e, CampaignPaused) and e.campaign_id == "deck-pm" for e in site.bus.events(CAMPAIGNS))

    # Revise gates-pm, which has offers out: a guard below what they could cost is refused beside the guard.
    worst = site.core.campaigns["gates-pm"].budget.worst_case_committed
    assert worst > 0
    _row(page, "gates-pm").locator("button[data-action='edit']").click()
    dialog = page.locator("#campaign-edit")
    dialog.wait_for(state="visible")
    assert page.locator("#ce-daily_budget_yen").input_value() == "3000"
    assert page.locator("#ce-guard_yen").input_value() == "9000"
    assert f"最大 {worst:,} 円" in page.locator("#ce-committed").text_content()
    page.fill("#ce-guard_yen", str(worst - 1))
    page.click("#campaign-edit-form button[type='submit']")
    page.wait_for_function("() => document.querySelector(\"#campaign-edit [data-error-for='guard_yen']\")"
                           ".textContent.length > 0")
    assert "could owe now" in _error_for(page.locator("#campaign-edit-form"), "guard_yen")
    page.locator("#campaign-edit").screenshot(path=str(SCREENSHOTS / "dashboard_campaign_revision_refused_ja.png"))
    page.fill("#ce-guard_yen", "12000")
    page.fill("#ce-daily_budget_yen", "4000")
    page.click("#campaign-edit-form button[type='submit']")
    dialog.wait_for(state="hidden", timeout=10_000)
    assert "gates-pm: 改定 1 を反映しました" in page.locator("#campaigns-message").text_content()
    page.wait_for_function("() => document.querySelector(\"#campaign-rows tr[data-campaign='gates-pm'] "
                           "td:nth-child(2)\").textContent.replace(/[^0-9]/g, '') === '4000'")
    revised = [e for e in site.bus.events(CAMPAIGNS) if isinstance(e, CampaignRevised)]
    assert [(r.campaign_id, r.daily_budget_yen, r.guard_yen) for r in revised] == [("gates-pm", 4_000, 12_000)]
    ledger_cell = _row(page, "gates-pm").locator("td").nth(10).text_content()
    assert ledger_cell.endswith("/ 12,000")  # the guard's rise funded on the campaign's account
    page.locator("#campaigns-card").screenshot(path=str(SCREENSHOTS / "dashboard_campaign_controls_ja.png"))

    # Stop deck-pm: the first click asks, the second stops; a stopped campaign has no more buttons.
    stop = _row(page, "deck-pm").locator("button[data-action='stop']")
    stop.click()
    assert stop.text_content() == "終了を確定"
    stop.click()
    page.wait_for_selector("#campaign-rows tr[data-campaign='deck-pm'][data-state='stopped']", timeout=10_000)
    assert _row(page, "deck-pm").locator("button").count() == 0

    page.click("#lang-switch")
    page.wait_for_function("() => document.querySelector(\"#campaign-rows tr[data-campaign='gates-pm'] "
                           "button[data-action='pause']\").textContent === 'Pause'")
    assert page.locator("#dash-role").text_content() == "operator"
    assert page.locator("#campaigns-message").text_content() == "deck-pm: stopped."
    assert page.locator("label[for='cf-guard_yen']").text_content() == "Guard (yen, funded on the account)"
    page.locator("#campaigns-card").screenshot(path=str(SCREENSHOTS / "dashboard_campaign_controls_en.png"))
    page.click("#lang-switch")

    refresh_token = page.evaluate("currentSession().refresh_token")
    page.click("#dash-signout")
    page.wait_for_selector("#dash-signin", state="visible")
    assert not page.locator("#campaigns-card").is_visible()
    assert page.evaluate("document.body.dataset.role") is None
    assert page.evaluate("sessionStorage.length") == 0
    r = httpx.post(f"{base}/v1/auth/refresh", json={"refresh_token": refresh_token})
    assert r.status_code == 401 and "revoked" in r.json()["message"]
    assert strays == [] and csp == []
    context.close()


def test_a_planner_sees_the_map_but_no_operator_panel(site, browser):
    base = site.base
    context = _context(browser, locale="ja-JP", viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    strays, csp = _watch(page, base), _csp_violations(page)
    page.goto(f"{base}/dashboard/")
    sign_in_dashboard(page, "plan-taro")
    page.wait_for_selector("body[data-map-ready='yes']", timeout=15_000)
    assert page.locator("#dash-role").text_content() == "プランナー"
    assert page.locator("#planner-note").is_visible()
    assert "運用者アカウントが必要です" in page.locator("#planner-note").text_content()
    for card in ("#ops-card", "#anomalies-card", "#campaigns-card"):
        assert not page.locator(card).is_visible(), card
    assert page.locator("#map path.chokepoint").count() == 7
    assert page.evaluate("currentSession().account.role") == "planner"
    status = page.evaluate("async () => (await authorized('/v1/operator/campaigns')).status")
    assert status == 403  # the gateway refuses as well, whatever the page shows
    page.screenshot(path=str(SCREENSHOTS / "dashboard_planner_ja.png"), full_page=True)
    assert strays == [] and csp == []
    context.close()


def test_an_app_user_is_told_the_page_is_for_operators_and_planners(site, browser):
    base = site.base
    context = _context(browser, locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    strays = _watch(page, base)
    page.goto(f"{base}/dashboard/")
    page.fill("#dash-username", "resident-jiro")
    page.fill("#dash-password", PASSWORD)
    page.click("#dash-signin-form button[type='submit']")
    page.wait_for_function("() => document.querySelector('#dash-signin-message').textContent.length > 0")
    assert "運用者とプランナー向けです" in page.locator("#dash-signin-message").text_content()
    assert page.evaluate("sessionStorage.length") == 0 and page.evaluate("document.body.dataset.role") is None
    assert page.locator("#dash-signin").is_visible() and not page.locator("#campaigns-card").is_visible()
    assert strays == []
    context.close()
