"""The dashboard's campaign panel in a real headless Chromium: a campaign runs on the in-process bus (the campaign
service, the simulated population answering, settlement writing a SQLite ledger), two codes are redeemed, and
the panel's numbers, in Japanese and in English, are the operator API's once an operator has signed in with
username and password; nothing leaves 127.0.0.1."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.gateway.app import create_app
from services.gateway.campaign_feed import BusCampaigns
from services.gateway.publisher import BusPublisher
from services.settlement.service import build_service as settlement_service
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.contracts.crowd import COUNTS, FORECASTS, CrowdCountObserved
from shared.contracts.incentives import OFFERS, REDEMPTIONS, RESPONSES, IncentiveOfferAnswered, RedemptionRequested
from shared.settings import Settings

from ..unit.incentives.test_service import make_bus, seed
from .test_dashboard_campaign_controls import dashboard_accounts, sign_in_dashboard
from .test_web_pages import SCREENSHOTS, _context, _watch, browser, serve  # noqa: F401  (browser: a fixture)

TOKEN = "operator-panel-token"


@pytest.fixture(scope="module")
def campaign_gateway(tmp_path_factory) -> Iterator[str]:
    bus, _core = make_bus()
    ledger = open_ledger(f"sqlite:///{tmp_path_factory.mktemp('panel') / 'ledger.sqlite'}", bytes(range(32)))
    bus.add(settlement_service(ledger))
    seed(bus)
    bus.tick()
    bus.run_until_idle()
    accepted = [a.offer_id for a in bus.events(RESPONSES) if isinstance(a, IncentiveOfferAnswered) and a.accepted]
    codes = {o.offer_id: o.code for o in bus.events(OFFERS)}
    assert len(accepted) >= 3
    for offer_id in accepted[:2]:
        bus.publish(REDEMPTIONS, RedemptionRequested(code=codes[offer_id], redeemer="cafe-1"))
    # Live counts at the goal place for the window's first 20 minutes, 10 a minute under the day without offers.
    (forecast,) = bus.events(FORECASTS)
    midnight = datetime.combine(forecast.day, time(0), ZoneInfo("Asia/Tokyo"))
    for minute in range(16 * 60, 16 * 60 + 20):
        bus.publish(COUNTS, CrowdCountObserved(zone="odakyu_gates", minute_start=midnight + timedelta(minutes=minute),
                                               persons=forecast.persons[minute] - 10, density_p_m2=0.5, los="B"))
    bus.run_until_idle()
    settings = Settings(operator_token=TOKEN)
    app = create_app(settings, BusPublisher(bus), LedgerReader(ledger), campaigns=BusCampaigns(bus),
                     accounts=dashboard_accounts(settings))
    with serve(app) as base:
        yield base


def _number(text: str) -> float:
    return float(re.sub(r"[^0-9.\-]", "", text))


def test_campaign_panel_matches_the_api(campaign_gateway, browser):  # noqa: F811
    base = campaign_gateway
    api = httpx.get(f"{base}/v1/operator/campaigns", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    (c,) = api
    assert c["offers"]["redeemed"] == 2 and c["budget"]["realised_yen"] > 0
    assert c["ledger"]["rewards_yen"] == c["budget"]["realised_yen"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = _context(browser, locale="ja-JP", viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    strays = _watch(page, base)
    page.goto(f"{base}/dashboard/")
    assert not page.locator("#campaigns").is_visible()  # nobody signed in yet: nothing shown
    sign_in_dashboard(page, "ops-hanako")
    page.wait_for_selector("#campaign-rows tr[data-campaign='gates-pm']", timeout=15_000)
    cells = page.locator("#campaign-rows tr").first.locator("td").all_text_contents()
    b, o, load = c["budget"], c["offers"], c["load_removed"]
    assert cells[0].startswith("gates-pm · 混雑緩和 odakyu_gates 16:00–17:00")
    assert [_number(x) for x in cells[1:4]] == [b["planned_yen"], round(b["expected_committed_yen"]),
                                                b["realised_yen"]]
    assert _number(cells[4]) == round(100 * b["realised_share_of_planned"], 1)
    assert [_number(x) for x in cells[5:8]] == [o["sent"], o["accepted"], o["redeemed"]]
    assert [_number(x) for x in cells[8:10]] == [round(load["expected"], 1), round(load["accepted"], 1)]
    assert cells[10] == f"{c['ledger']['balance_yen']:,} / {c['ledger']['funded_yen']:,}"
    assert page.locator("#campaigns-card h2").text_content() == "インセンティブ・キャンペーン（予算と実績）"
    # The goal place's curve: live beside the simulated day without the campaign, the window's loss so far.
    page.wait_for_selector("#campaign-curve[data-ready='yes']", timeout=15_000)
    curve = httpx.get(f"{base}/v1/operator/campaigns/gates-pm/curve",
                      headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert curve["removed_so_far"] == 200 and curve["window_minutes_observed"] == 20
    assert page.locator("#campaign-curve").get_attribute("data-removed") == "200"
    for series in ("without_campaign", "live"):
        assert page.locator(f"#curve-chart path[data-series='{series}']").get_attribute("d").count("L") > 2
    assert "差 200 人" in page.locator("#curve-summary").text_content()
    page.locator("#campaigns-card").screenshot(path=str(SCREENSHOTS / "dashboard_campaigns_ja.png"))
    page.click("#lang-switch")
    # A function, not an expression: the page's CSP forbids eval, which Playwright needs to re-run an expression.
    page.wait_for_function("() => document.querySelector('#campaign-rows td') && "
                           "document.querySelector('#campaign-rows td').textContent.includes('cut the load at')")
    cells_en = page.locator("#campaign-rows tr").first.locator("td").all_text_contents()
    assert [_number(x) for x in cells_en[1:10]] == [_number(x) for x in cells[1:10]]
    assert page.locator("#campaigns-card h2").text_content() == "Incentive campaigns — budget and results"
    assert "200 fewer" in page.locator("#curve-summary").text_content()
    page.locator("#campaigns-card").screenshot(path=str(SCREENSHOTS / "dashboard_campaigns_en.png"))
    assert strays == []
    context.close()


def test_campaign_routes_need_the_operator(campaign_gateway):
    base = campaign_gateway
    assert httpx.get(f"{base}/v1/operator/campaigns").status_code == 401
    # this gateway has no broker to read the campaign service's log from: the reconcile says so
    answer = httpx.get(f"{base}/v1/operator/campaigns/reconcile", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 503 and "campaign reconcile is not available" in answer.json()["message"]
