"""A co-owned car in the app, in headless Chromium over the in-process bus with the real mobility service (its
default Ebina group, five members and two EVs): Aoki, a member, books ev-leaf for two hours tomorrow morning and
sees the group's answer on the page; asking for the same car at the same time gets the other car (the answer
says which), a third time is refused with the reason; a booking longer than a day is refused beside its end,
nothing sent. Nothing leaves 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.gateway.accounts.passwords import Passwords, cheap_hasher
from services.gateway.accounts.service import Accounts
from services.gateway.accounts.store import open_store
from services.gateway.bootstrap import build_gateway
from services.gateway.publisher import BusPublisher
from services.gateway.rides import BusRides
from services.mobility.bootstrap import build_mobility
from services.mobility.config import MobilityConfig
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus
from shared.contracts import mobility
from shared.roads import load_drive_network
from shared.settings import Settings

from .test_app_accounts import PASSWORD, _csp_violations
from .test_web_pages import SCREENSHOTS, _phone, _watch, serve

pytestmark = pytest.mark.browser
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[str, InProcessBus, Accounts]]:
    folder = tmp_path_factory.mktemp("app-coowned")
    settings = Settings(ledger_anchors_file=str(folder / "anchors.jsonl"))
    accounts = Accounts(open_store("sqlite://"), settings.token_secret, passwords=Passwords(cheap_hasher()))
    bus = InProcessBus([build_mobility(load_drive_network(), MobilityConfig(time_scale=1),
                                       clock=lambda: datetime.now(UTC))])
    ledger = LedgerReader(open_ledger(f"sqlite:///{folder / 'ledger.sqlite'}"))
    app = build_gateway(settings, publisher=BusPublisher(bus), ledger=ledger, accounts=accounts, rides=BusRides(bus))
    with serve(app) as base:
        yield base, bus, accounts


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p, tmp_path_factory.mktemp("profile")


def _asked(bus: InProcessBus) -> list[mobility.CoownedBookingRequested]:
    return [e for e in bus.events(mobility.COOWNED) if isinstance(e, mobility.CoownedBookingRequested)]


def _answers(bus: InProcessBus) -> list[mobility.CoownedBookingAnswered]:
    return [e for e in bus.events(mobility.COOWNED) if isinstance(e, mobility.CoownedBookingAnswered)]


def _book(page, n: int) -> None:
    page.click("#coowned-form button[type='submit']")
    page.wait_for_function(f"() => document.querySelectorAll('#coowned-rows tr').length === {n}", timeout=15_000)


def test_a_member_books_a_co_owned_car_and_sees_the_answer(site, browser):
    base, bus, accounts = site
    accounts.create("aoki", PASSWORD, "app-user", participant="aoki")  # the group's member aoki signs in
    tomorrow = (datetime.now(TOKYO) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)

    context = _phone(browser)
    page = context.new_page()
    strays, csp = _watch(page, base), _csp_violations(page)
    page.goto(f"{base}/app/")
    page.fill("#signin-username", "aoki")
    page.fill("#signin-password", PASSWORD)
    page.click("#signin-form button[type='submit']")
    page.wait_for_selector("body[data-coowned-ready='yes']", timeout=15_000)
    assert page.locator("#no-coowned").is_visible()
    assert page.input_value("#coowned-group") == "ebina-kashiwa-ev"

    # Longer than a day: refused beside the end, nothing sent to the group.
    page.select_option("#coowned-car", "ev-leaf")
    page.fill("#coowned-start", f"{tomorrow:%Y-%m-%dT%H:%M}")
    page.fill("#coowned-hours", "24.5")
    page.evaluate("() => document.getElementById('coowned-hours').removeAttribute('max')")
    page.click("#coowned-form button[type='submit']")
    page.wait_for_selector("#coowned-message[data-status='422']", timeout=15_000)
    assert page.locator("#coowned-message").text_content().startswith("使い終わり")
    assert _asked(bus) == []

    # Two hours of ev-leaf with 30 km: the group holds it for her.
    page.fill("#coowned-hours", "2")
    page.fill("#coowned-distance", "30")
    _book(page, 1)
    assert page.get_attribute("#coowned-message", "data-status") == "202"
    (asked,) = _asked(bus)
    assert (asked.member, asked.group, asked.car, asked.distance_m) == ("aoki", "ebina-kashiwa-ev", "ev-leaf", 30_000)
    assert asked.start == tomorrow and asked.end == tomorrow + timedelta(hours=2)
    (answer,) = _answers(bus)
    assert answer.accepted and answer.car == "ev-leaf"
    first = page.locator(f"#coowned-rows tr[data-booking='{asked.booking_id}']")
    first.wait_for(timeout=15_000)
    assert first.get_attribute("data-state") == "accepted"
    assert f"ev-leaf を確保しました（{answer.period} 分の精算）" in first.text_content()

    # ev-leaf again at the same time: the other car, and the row says which.
    _book(page, 2)
    second = _asked(bus)[1]
    row = page.locator(f"#coowned-rows tr[data-booking='{second.booking_id}']")
    row.wait_for(timeout=15_000)
    assert row.get_attribute("data-state") == "accepted" and "ev-sakura を確保しました" in row.text_content()
    assert page.locator("#coowned-rows tr").first.get_attribute("data-booking") == second.booking_id  # newest first

    # A third time: both cars are held, refused with the group's reason.
    _book(page, 3)
    third = _asked(bus)[2]
    refused = _answers(bus)[2]
    assert not refused.accepted and refused.free_cars == ()
    row = page.locator(f"#coowned-rows tr[data-booking='{third.booking_id}']")
    row.wait_for(timeout=15_000)
    assert row.get_attribute("data-state") == "declined"
    text = row.text_content()
    assert "予約できません" in text and refused.reason in text and "空いている車はありません" in text
    page.screenshot(path=str(SCREENSHOTS / "app_coowned_ja.png"), full_page=True)
    page.click("#lang-switch")
    page.wait_for_function("() => document.querySelector('#coowned-rows').textContent.includes('ev-sakura is yours')")
    english = page.locator(f"#coowned-rows tr[data-booking='{third.booking_id}']").text_content()
    assert refused.reason in english and "no car is free then" in refused.reason
    assert "No car is free then." not in english  # said once, by the reason itself
    assert strays == [] and csp == []
    context.close()


def test_an_operator_closes_the_month_from_the_dashboard_and_the_split_follows(site, browser):
    """The operator's card: the month is closed on the bus and the mobility service answers with the split of
    that month's bookings (by booked hours), once however often it is closed."""
    base, bus, accounts = site
    accounts.create("ops-coowned", PASSWORD, "operator")
    month = f"{datetime.now(TOKYO) + timedelta(days=1):%Y-%m}"  # the month of the first test's bookings
    context = _phone(browser)
    page = context.new_page()
    strays, csp = _watch(page, base), _csp_violations(page)
    page.goto(f"{base}/dashboard/")
    assert not page.locator("#coowned-card").is_visible()
    page.fill("#dash-username", "ops-coowned")
    page.fill("#dash-password", PASSWORD)
    page.click("#dash-signin-form button[type='submit']")
    page.wait_for_selector("body[data-role='operator']", timeout=15_000)
    assert page.locator("#coowned-card").is_visible()
    page.fill("#coclose-period", month)
    for _ in range(2):  # closing twice: the same split
        page.click("#coclose-form button[type='submit']")
        page.wait_for_selector("#coclose-message.ok", timeout=15_000)
        page.evaluate("() => { document.getElementById('coclose-message').className = ''; }")
    assert f"ebina-kashiwa-ev の {month} を締めました" in page.locator("#coclose-message").text_content()
    splits = [e for e in bus.events(mobility.COST_SHARES) if e.group == "ebina-kashiwa-ev" and e.period == month]
    assert len(splits) == 2 and splits[0] == splits[1]
    booked = {}
    for a in _answers(bus):
        if a.accepted and a.period == month:
            booked[a.member] = booked.get(a.member, 0) + int((a.end - a.start).total_seconds() // 60)
    assert {m.member: m.use_min for m in splits[0].members if m.use_min} == booked
    assert strays == [] and csp == []
    context.close()
