"""My car in headless Chromium, over the in-process bus with the real charging service planning: the owner sees
today's charging plan (kWh, solar share, cost, bookings per charger and slot), switches to "Now", and the page
shows the re-planned answer with what the override costs; a departure no charging can cover is named with the
kWh missing and the time the car could leave."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.charging.bootstrap import build_charging
from services.gateway.accounts.passwords import Passwords, cheap_hasher
from services.gateway.accounts.service import Accounts
from services.gateway.accounts.store import open_store
from services.gateway.bootstrap import build_gateway
from services.gateway.cars import BusCars
from services.gateway.publisher import BusPublisher
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus
from shared.contracts.charging import BOOKINGS, PLANS, EvBooked, EvPlanSubmitted, PlannedStay
from shared.settings import Settings
from shared.units import slot_start

from .test_app_accounts import PASSWORD, _csp_violations, _sign_in
from .test_web_pages import SCREENSHOTS, _phone, _watch, serve

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[str, InProcessBus, Accounts]]:
    folder = tmp_path_factory.mktemp("app-car")
    settings = Settings(ledger_anchors_file=str(folder / "anchors.jsonl"))
    accounts = Accounts(open_store("sqlite://"), settings.token_secret, passwords=Passwords(cheap_hasher()))
    bus = InProcessBus([build_charging()])
    ledger = LedgerReader(open_ledger(f"sqlite:///{folder / 'ledger.sqlite'}"))  # a file: routes read from threads
    app = build_gateway(settings, publisher=BusPublisher(bus), ledger=ledger,
                        accounts=accounts, cars=BusCars(bus))
    with serve(app) as base:
        yield base, bus, accounts


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p, tmp_path_factory.mktemp("profile")


def plan(owner: str, vehicle: str, need: str, hours: float, soc: str = "8") -> EvPlanSubmitted:
    arrive = slot_start(datetime.now(UTC)) + timedelta(minutes=30)
    return EvPlanSubmitted(vehicle=vehicle, participant=owner, battery_kwh=Decimal("40"), soc_kwh=Decimal(soc),
                           max_charge_kw=Decimal("6"), stays=(PlannedStay(
                               site="office-park", arrive=arrive, depart=arrive + timedelta(hours=hours),
                               need_kwh=Decimal(need), trip_kwh=Decimal("6")),))


def _booked(bus: InProcessBus) -> list[EvBooked]:
    return [b for b in bus.events(BOOKINGS) if isinstance(b, EvBooked)]


def test_the_owner_sees_the_plan_switches_to_now_and_sees_what_it_costs(site, browser):
    base, bus, accounts = site
    aoi = accounts.sign_up("aoi", PASSWORD).subject
    bus.publish(PLANS, plan(aoi, "ev-aoi", need="20", hours=8))
    bus.run_until_idle()
    first = [b for b in _booked(bus) if b.vehicle == "ev-aoi"][-1]
    assert first.status == "planned"

    context = _phone(browser)
    page = context.new_page()
    strays, csp = _watch(page, base), _csp_violations(page)
    page.goto(f"{base}/app/")
    _sign_in(page, "aoi")
    card = page.locator("div.car[data-vehicle='ev-aoi']")
    card.wait_for(timeout=15000)
    assert card.locator("select.car-mode").input_value() == "departure"
    kwh = sum(b.kwh for b in first.bookings)
    assert f"{kwh:.1f} kWh" in card.locator(".car-status").text_content()
    assert card.locator("table.car-bookings tr").count() == len(first.bookings) + 1
    page.screenshot(path=str(SCREENSHOTS / "app_car_ja.png"), full_page=True)

    card.locator("select.car-mode").select_option("now")
    page.wait_for_selector("div.car[data-vehicle='ev-aoi'][data-mode='now']", timeout=15000)
    latest = [b for b in _booked(bus) if b.vehicle == "ev-aoi"][-1]
    plans = [p for p in bus.events(PLANS) if p.vehicle == "ev-aoi"]
    assert [p.mode for p in plans] == ["departure", "now"] and plans[-1].participant == aoi
    assert latest.planned_at >= first.planned_at
    if latest.override_cost_yen:
        assert f"{latest.override_cost_yen:,.0f}" in page.locator("div.car[data-vehicle='ev-aoi']").text_content()
    assert strays == [] and csp == []
    context.close()


def test_a_departure_that_cannot_be_covered_is_named_with_the_missing_kwh(site, browser):
    base, bus, accounts = site
    ren = accounts.sign_up("ren", PASSWORD).subject
    bus.publish(PLANS, plan(ren, "ev-ren", need="38", hours=1, soc="2"))  # 36 kWh in an hour at 6 kW: no
    bus.run_until_idle()
    (answer,) = [b for b in _booked(bus) if b.vehicle == "ev-ren"][-1:]
    assert answer.status == "infeasible"
    context = _phone(browser)
    page = context.new_page()
    page.goto(f"{base}/app/")
    _sign_in(page, "ren")
    status = page.locator("div.car[data-vehicle='ev-ren'] .car-status[data-state='infeasible']")
    status.wait_for(timeout=15000)
    missing = answer.shortfalls[0].missing_kwh
    assert f"{missing:.1f} kWh" in status.text_content()
    context.close()
