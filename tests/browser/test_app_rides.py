"""Trips, rides and deliveries in the app, in headless Chromium over the in-process bus with the real ride
dispatcher on the shipped Ebina drive network: a resident says when they will pass the Odakyu gates (the
campaign service's TripExpected, in Japan time), asks for a ride from the JR west exit to the Kokubu offices and
sees the dispatcher's answer on the page; asking for a ride to where one already is is refused beside the
destination; a parcel they sent is followed to its hand-over. Nothing leaves 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

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
from shared.contracts import incentives, logistics, mobility
from shared.roads import load_drive_network
from shared.settings import Settings

from .test_app_accounts import PASSWORD, _csp_violations
from .test_web_pages import SCREENSHOTS, _phone, _watch, serve

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[str, InProcessBus, Accounts]]:
    folder = tmp_path_factory.mktemp("app-rides")
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


def test_a_trip_a_ride_and_a_parcel(site, browser):
    base, bus, accounts = site
    sachiko = accounts.sign_up("sachiko", PASSWORD).subject
    now = datetime.now(UTC)
    bus.publish(logistics.REQUESTS, logistics.ParcelRequested(
        parcel_id="box-17", sender=sachiko, depot="lalaport", lat=35.4560, lon=139.3975, deliver_from=now,
        deliver_until=now + timedelta(hours=2), weight_kg=2.5, size_l=12))
    bus.publish(logistics.ASSIGNMENTS, logistics.ParcelDelivered(
        parcel_id="box-17", sender=sachiko, courier="ebina-van-1", operator="ebina-ev", fee_yen=425,
        payout_yen=340, delivered_at=now + timedelta(minutes=50)))

    context = _phone(browser)
    page = context.new_page()
    strays, csp = _watch(page, base), _csp_violations(page)
    page.goto(f"{base}/app/")
    page.fill("#signin-username", "sachiko")
    page.fill("#signin-password", PASSWORD)
    page.click("#signin-form button[type='submit']")
    page.wait_for_selector("body[data-rides-ready='yes']", timeout=15_000)
    parcel = page.locator("#parcel-rows tr[data-parcel='box-17']")
    assert parcel.get_attribute("data-state") == "delivered" and "425" in parcel.text_content()

    # When she will pass the Odakyu gates: the campaign service hears it in Japan time.
    page.select_option("#trip-place", "odakyu_gates")
    page.fill("#trip-at", "2026-12-03T08:10")
    page.select_option("#trip-segment", "commute_out")
    page.click("#trip-form button[type='submit']")
    page.wait_for_selector("#trip-message[data-status='202']", timeout=15_000)
    (trip,) = [e for e in bus.events(incentives.USERS) if isinstance(e, incentives.TripExpected)]
    assert (trip.user, trip.place, trip.segment) == (sachiko, "odakyu_gates", "commute_out")
    assert trip.at == datetime(2026, 12, 2, 23, 10, tzinfo=UTC)

    # A ride to where she already is: refused beside the destination, nothing sent to the dispatcher.
    page.select_option("#ride-origin", "jr_west")
    page.select_option("#ride-destination", "jr_west")
    page.click("#ride-form button[type='submit']")
    page.wait_for_selector("#ride-message[data-status='422']", timeout=15_000)
    assert page.locator("#ride-message").text_content().startswith("目的地")
    assert bus.events(mobility.REQUESTS) == []

    # A ride the dispatcher answers: the page shows its answer without a reload of the form.
    page.select_option("#ride-destination", "kokubu")
    page.click("#ride-form button[type='submit']")
    page.wait_for_selector("#ride-message[data-status='202']", timeout=15_000)
    (asked,) = bus.events(mobility.REQUESTS)
    assert asked.rider == sachiko
    answered = [a for a in bus.events(mobility.ASSIGNMENTS) if isinstance(a, mobility.RideAnswered)]
    assert [a.request_id for a in answered] == [asked.request_id]
    ride = page.locator(f"#ride-rows tr[data-request='{asked.request_id}']")
    ride.wait_for(timeout=15_000)
    state = "accepted" if answered[0].accepted else "declined"
    assert ride.get_attribute("data-state") == state
    text = ride.text_content()
    assert "JR 海老名駅（西口） → 国分（東側のオフィス街）" in text
    if answered[0].accepted:
        assert f"運賃 {answered[0].fare_yen:,} 円" in text
    else:
        assert answered[0].reason in text
    page.screenshot(path=str(SCREENSHOTS / "app_rides_ja.png"), full_page=True)
    page.click("#lang-switch")
    page.wait_for_function("() => document.querySelector('#ride-rows').textContent.includes('JR Ebina (west)')")
    assert strays == [] and csp == []
    context.close()
