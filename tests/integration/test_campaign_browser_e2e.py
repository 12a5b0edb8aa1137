"""End to end over the real stack, in headless Chromium: an operator signs in on the dashboard and launches a
campaign; an app user who said they will pass the Odakyu gates sees the offer arrive on their open page; they
accept; the dashboard's counters move; a shop redeems the code and the reward is a line on the user's statement.

Kafka and PostgreSQL are the real servers; the market, settlement, gateway and campaign service are real
processes; every page request stays on 127.0.0.1.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from services.localstack import LocalStack

from ..browser.test_app_accounts import PASSWORD, _csp_violations
from ..browser.test_web_pages import SCREENSHOTS, _context, _phone, _watch, browser  # noqa: F401  (a fixture)
from .conftest import wait_until
from .test_incentives_loop import _trips_start, publish_day_forecast

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def _access_token(gateway: str, username: str) -> str:
    answer = httpx.post(f"{gateway}/v1/auth/token", data={"username": username, "password": PASSWORD}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def _campaign_row(page, cid: str):
    return page.locator(f"#campaign-rows tr[data-campaign='{cid}']")


def test_a_campaign_launched_on_the_dashboard_pays_an_app_user_over_kafka(kafka_bootstrap, stack, tmp_path: Path,
                                                                         browser):  # noqa: F811
    campaigns = LocalStack(kafka_bootstrap, "sqlite://", tmp_path, services=("incentives",), env={
        "CITYMATCH_ENVIRONMENT": "test", "CITYMATCH_TOKEN_SECRET": stack.token_secret,
        "CITYMATCH_INCENTIVES_ROUND_SECONDS": "2"})
    campaigns.start(timeout_s=180)
    run = uuid.uuid4().hex[:8]
    operator, user = f"ops-{run}", f"rider-{run}"
    gw = stack.gateway
    try:
        made = httpx.post(f"{gw}/v1/operator/accounts", json={"username": operator, "password": PASSWORD,
                                                              "role": "operator"},
                          headers={"Authorization": f"Bearer {stack.operator_token}"}, timeout=10)
        assert made.status_code == 201, made.text
        signed_up = httpx.post(f"{gw}/v1/auth/signup", json={"username": user, "password": PASSWORD}, timeout=10)
        assert signed_up.status_code == 201, signed_up.text
        rider = signed_up.json()["participant"]

        # The rider's app says when they will pass the gates (what the app's trip planner sends).
        base = _trips_start()
        publish_day_forecast(kafka_bootstrap, base.date())  # offers at any hour (see its docstring)
        trip = httpx.post(f"{gw}/v1/app/trips", json={"segment": "commute_out", "place": "odakyu_gates",
                                                      "at": (base + timedelta(minutes=5)).isoformat()},
                          headers={"Authorization": f"Bearer {_access_token(gw, user)}"}, timeout=10)
        assert trip.status_code == 202, trip.text

        # The rider's phone: signed in, the live offer list open.
        phone = _phone(browser)
        app = phone.new_page()
        app_strays, app_csp = _watch(app, gw), _csp_violations(app)
        app.goto(f"{gw}/app/")
        app.fill("#signin-username", user)
        app.fill("#signin-password", PASSWORD)
        app.click("#signin-form button[type='submit']")
        app.wait_for_selector("#offers-live[data-state='live']", timeout=15_000)

        # The operator's dashboard: signed in with their account, a campaign launched from the form.
        desk = _context(browser, locale="ja-JP", viewport={"width": 1280, "height": 900})
        dash = desk.new_page()
        dash_strays, dash_csp = _watch(dash, gw), _csp_violations(dash)
        dash.goto(f"{gw}/dashboard/")
        cid = launch_from_dashboard(dash, operator, base, run)
        row = _campaign_row(dash, cid)
        row.wait_for(timeout=30_000)

        offer = app.locator("li.offer[data-state='offered']")
        offer.first.wait_for(timeout=60_000)
        offer_id = offer.first.get_attribute("data-offer")
        app.screenshot(path=str(SCREENSHOTS / "e2e_app_offer_ja.png"), full_page=True)
        offer.first.locator("button.accept").click()
        accepted = app.locator(f"li.offer[data-offer='{offer_id}'][data-state='accepted']")
        accepted.wait_for(timeout=30_000)
        code = accepted.locator(".code code").text_content()
        assert code

        # The campaign service counts the acceptance; the dashboard's row says so.
        def counted():
            dash.reload()
            cells = _campaign_row(dash, cid).locator("td")
            cells.first.wait_for(timeout=15_000)
            return int(cells.nth(6).text_content().replace(",", "")) >= 1
        wait_until(counted, 60, "the dashboard's accepted count to move")
        dash.screenshot(path=str(SCREENSHOTS / "e2e_dashboard_campaign_ja.png"), full_page=True)

        # A shop checks the code; the reward is paid once and lands on the rider's statement.
        shop = httpx.post(f"{gw}/v1/campaigns/redemptions", json={"code": code},
                          headers=stack.headers(f"ebina-cafe-{run}"), timeout=10)
        assert shop.status_code == 202, shop.text
        app.wait_for_selector(f"li.offer[data-offer='{offer_id}'][data-state='redeemed']", timeout=60_000)

        def on_statement():
            app.reload()
            app.wait_for_selector("body[data-energy-ready='yes']", timeout=15_000)
            line = app.locator("#payment-rows tr[data-kind='reward']")
            return line.count() > 0 and line.first.text_content()
        text = wait_until(on_statement, 60, "the reward on the rider's statement")
        assert "オファーの特典" in text
        app.screenshot(path=str(SCREENSHOTS / "e2e_app_reward_ja.png"), full_page=True)

        # Over the same broker: the operator pauses and resumes the campaign, then raises its daily budget; the
        # campaign service decides the revision and the dashboard's row shows each state and the new budget.
        def row_state(state: str):
            def check():
                dash.reload()
                found = _campaign_row(dash, cid)
                found.wait_for(timeout=15_000)
                return found.get_attribute("data-state") == state
            return check

        _campaign_row(dash, cid).locator("button[data-action='pause']").click()
        wait_until(row_state("paused"), 60, "the campaign paused on the dashboard")
        _campaign_row(dash, cid).locator("button[data-action='resume']").click()
        wait_until(row_state("running"), 60, "the campaign running again")
        _campaign_row(dash, cid).locator("button[data-action='edit']").click()
        dash.fill("#ce-daily_budget_yen", "12345")
        dash.click("#campaign-edit-form button[type='submit']")

        def revised():
            dash.reload()
            cells = _campaign_row(dash, cid).locator("td")
            cells.first.wait_for(timeout=15_000)
            return cells.nth(1).text_content().replace(",", "") == "12345"
        wait_until(revised, 60, "the revised daily budget on the dashboard")
        summary = next(c for c in httpx.get(f"{gw}/v1/operator/campaigns",
                                            headers={"Authorization": f"Bearer {_access_token(gw, operator)}"},
                                            timeout=10).json() if c["campaign_id"] == cid)
        assert summary["revision"] == 1 and summary["last_revision"]["status"] == "revised", summary
        assert rider
        assert app_strays == [] and dash_strays == [], (app_strays, dash_strays)
        assert app_csp == [] and dash_csp == []
        desk.close()
        phone.close()
    finally:
        campaigns.stop()


def launch_from_dashboard(page, operator: str, base, run: str) -> str:
    """Sign in as the operator and launch a campaign at the Odakyu gates, for the window from ``base``, from the
    dashboard's form (its other fields keep the form's defaults: budget, guard, the two shift offers)."""
    page.fill("#dash-username", operator)
    page.fill("#dash-password", PASSWORD)
    page.click("#dash-signin-form button[type='submit']")
    page.wait_for_selector("body[data-role='operator']", timeout=15_000)
    page.wait_for_selector("body[data-map-ready='yes']", timeout=15_000)
    page.click("#campaign-new summary")
    cid = f"e2e-{run}"
    end = min(base + timedelta(minutes=30), base.replace(hour=23, minute=59))
    page.fill("#cf-campaign_id", cid)
    page.fill("#cf-day", base.date().isoformat())
    page.select_option("#cf-place", "odakyu_gates")
    page.fill("#cf-window-start", base.strftime("%H:%M"))
    page.fill("#cf-window-end", end.strftime("%H:%M"))
    page.fill("#cf-quiet-start", "")  # no quiet hours: the test may run at any hour (the default is 22:00-06:00)
    page.fill("#cf-quiet-end", "")
    page.click("#campaign-form button[type='submit']")
    page.wait_for_function("() => document.querySelector('#campaigns-message').textContent.length > 0",
                           timeout=15_000)
    assert page.locator("#campaign-form .field-error:not(:empty)").count() == 0
    return cid
