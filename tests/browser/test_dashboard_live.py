"""The dashboard's live map and market & ledger panel in headless Chromium, over the in-process bus: crowd counts,
meter readings and a vehicle plan published on the bus appear on the map (a chokepoint's level of service, a
charger's load marker, a vehicle), a count that went quiet is drawn stale, a new count shows up on the next
refresh, and a gateway that stops answering turns the whole map stale; the panel shows the ledger's slots with
the market's clearing price, verification, and the dead letters with their reason; Japanese and English;
nothing leaves 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from services.gateway.anomalies import BusAnomalies
from services.gateway.bootstrap import build_gateway
from services.gateway.city_live import BusLive, ChargerSpec
from services.gateway.dead_letters import BusDeadLetters
from services.gateway.market_slots import BusMarket
from services.gateway.publisher import BusPublisher
from services.market.bootstrap import build_market
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus
from shared.contracts import charging, crowd, energy, mobility
from shared.contracts.energy import TradeMatched
from shared.settings import Settings

from ..unit.gateway.test_live_models import Clock
from .test_dashboard_campaign_controls import dashboard_accounts, sign_in_dashboard
from .test_web_pages import SCREENSHOTS, _context, _watch, browser, serve  # noqa: F401  (browser: a fixture)

pytestmark = pytest.mark.browser
TOKEN = "operator-live-token"
NOW = datetime(2026, 12, 2, 8, 10, tzinfo=UTC)  # the services' clock: 17:10 in Ebina
SLOT = datetime(2026, 12, 2, 7, 30, tzinfo=UTC)
CHARGERS = (ChargerSpec("ebina-station-ev/cp-01", "ebina-station-ev", Decimal("20")),
            ChargerSpec("ebina-station-ev/cp-02", "ebina-station-ev", Decimal("20")),
            ChargerSpec("lalaport-ebina/cp-01", "lalaport-ebina", Decimal("6")))


def _count(zone: str, minute: datetime, persons: int, los: str) -> crowd.CrowdCountObserved:
    return crowd.CrowdCountObserved(zone=zone, minute_start=minute, persons=persons, density_p_m2=0.9, los=los)


def _reading(charger: str, kwh: str, minutes: int) -> charging.ChargingSessionMetered:
    return charging.ChargingSessionMetered(charger=charger, vehicle="ev-12", transaction_id=3, kwh=Decimal(kwh),
                                           started_at=NOW - timedelta(minutes=minutes), read_at=NOW)


@pytest.fixture(scope="module")
def live_gateway(tmp_path_factory) -> Iterator[tuple[str, InProcessBus, Clock]]:
    clock = Clock(NOW - timedelta(minutes=10))
    bus = InProcessBus([build_market(clock=clock)], clock=clock)
    ledger = open_ledger(f"sqlite:///{tmp_path_factory.mktemp('live') / 'ledger.sqlite'}", bytes(range(32)))
    trades = [TradeMatched(trade_id=f"t-live-{k}", slot=SLOT + timedelta(minutes=30 * (k % 2)), seller="pv-roof-1",
                           buyer=f"home-{k}", kwh=Decimal(kwh), price=Decimal(price), tier="B",
                           renewable=k % 2 == 0, seller_site=None)
              for k, (kwh, price) in enumerate((("2.000", "17.50"), ("1.500", "19.00"), ("1.000", "17.50")))]
    for trade in trades:
        ledger.record_trade(trade)
        bus.publish(energy.TRADES, trade)
    ledger.anchor_pending()
    bus.publish(crowd.COUNTS, _count("west_deck", NOW - timedelta(minutes=11), 120, "B"))  # then it went quiet
    clock.now = NOW
    bus.publish(crowd.COUNTS, _count("odakyu_gates", NOW - timedelta(minutes=1), 660, "E"))
    bus.publish(crowd.COUNTS, _count("east_deck", NOW - timedelta(minutes=1), 150, "A"))
    bus.publish(charging.SESSIONS, _reading("ebina-station-ev/cp-01", "1.5", 6))  # 15 kW of 20
    bus.publish(charging.SESSIONS, _reading("lalaport-ebina/cp-01", "0.5", 5))    # 6 kW of 6
    bus.publish(charging.CHARGERS, charging.ChargerAvailability(charger="ebina-station-ev/cp-02", available=False,
                                                                reason="not connected"))
    stop = mobility.PlannedStop(request_id="ride-88", kind="pickup", lat=35.4540, lon=139.3893,
                                planned_at=NOW + timedelta(minutes=4), window_from=NOW,
                                window_until=NOW + timedelta(minutes=10), seats=1, service_s=30, max_ride_s=900)
    bus.publish(mobility.ASSIGNMENTS, mobility.VehiclePlanned(
        vehicle="ebina-van-2", stops=(stop,), revision=4, reason="insertion", at_lat=35.4510, at_lon=139.3925,
        free_at=NOW))
    bus.publish_raw(energy.ORDERS.name, b'{"event_type": "energy.order.placed", "broken')  # the market refuses it
    bus.run_until_idle()
    settings = Settings(operator_token=TOKEN)
    app = build_gateway(settings, publisher=BusPublisher(bus), ledger=LedgerReader(ledger),
                        accounts=dashboard_accounts(settings), anomalies=BusAnomalies(bus),
                        live=BusLive(bus, CHARGERS), market=BusMarket(bus),
                        dead_letters=BusDeadLetters(bus))
    with serve(app) as base:
        yield base, bus, clock


def test_live_map_and_market_panel(live_gateway, browser):  # noqa: F811
    base, bus, _ = live_gateway
    headers = {"Authorization": f"Bearer {TOKEN}"}
    api = httpx.get(f"{base}/v1/operator/live", headers=headers).json()
    assert {c["zone"]: c["stale"] for c in api["chokepoints"]}["west_deck"] is True
    assert httpx.get(f"{base}/v1/operator/dead-letters", headers=headers).json()["total"] == 1

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = _context(browser, locale="ja-JP", viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    strays = _watch(page, base)
    page.goto(f"{base}/dashboard/")
    page.wait_for_selector("body[data-map-ready='yes']", timeout=15_000)
    assert page.locator("#live").is_hidden() and page.locator("#live-signin").is_visible()
    sign_in_dashboard(page, "ops-hanako")
    page.wait_for_selector("#map path.los[data-zone='odakyu_gates'][data-los='E']", timeout=15_000)

    # the map: level of service, stale, charger load, vehicle
    gates = page.locator("#map path.los[data-zone='odakyu_gates']")
    assert gates.get_attribute("data-state") == "live" and "los-E" in gates.get_attribute("class")
    assert page.locator("#map path.flow[data-zone='odakyu_gates']").count() == 1
    west = page.locator("#map path.los[data-zone='west_deck']")
    assert west.get_attribute("data-state") == "stale"
    assert page.locator("#map path.flow[data-zone='west_deck']").count() == 0
    assert page.locator("#map path.los[data-zone='jr_gates']").get_attribute("data-los") == "none"
    station = page.locator("#map circle.charger[data-charger='ebina-station-ev/cp-01']")
    assert station.get_attribute("data-load") == "mid" and float(station.get_attribute("r")) == pytest.approx(8.5)
    load = {c: page.locator(f"#map circle.charger[data-charger='{c}']").get_attribute("data-load")
            for c in ("lalaport-ebina/cp-01", "ebina-station-ev/cp-02")}
    assert load == {"lalaport-ebina/cp-01": "high", "ebina-station-ev/cp-02": "down"}
    assert page.locator("#map [data-vehicle='ebina-van-2'].vehicle").get_attribute("data-state") == "live"
    assert page.locator("#map path.chokepoint").count() == 7  # the base map is untouched

    # the tables and the legend, in Japanese
    row = page.locator("#live-chokepoint-rows tr[data-zone='odakyu_gates']").text_content()
    assert "小田急線改札" in row and "E" in row and "660" in row and "82.5" in row and "最新" in row
    assert "古い" in page.locator("#live-chokepoint-rows tr[data-zone='west_deck']").text_content()
    assert "15.0 / 20 kW" in page.locator("#live-charger-rows tr[data-charger='ebina-station-ev/cp-01']").text_content()
    assert "利用不可 (not connected)" in page.locator("#live-charger-rows").text_content()
    assert "乗車 ride-88" in page.locator("#live-vehicle-rows tr[data-vehicle='ebina-van-2']").text_content()
    assert "流れが破綻・滞留" in page.locator("#live-legend").text_content()

    # the market & ledger panel
    page.wait_for_selector("#dead-letter-rows tr[data-topic='energy.orders']", timeout=15_000)
    page.wait_for_selector("#market-checks li[data-check='verify'].ok", timeout=15_000)
    dead = page.locator("#dead-letter-rows tr[data-topic='energy.orders']").text_content()
    assert "undecodable message on energy.orders" in dead and "1" in dead
    assert page.locator("#market-chart rect.bar").count() == 2
    assert sorted(page.locator("#market-chart circle.price-dot").evaluate_all(
        "els => els.map(e => e.dataset.price)")) == ["17.5", "19"]
    first_slot = page.locator("#market-slot-rows tr").nth(1).text_content()  # 16:30-17:00 in Ebina: t-live-0, -2
    assert "3.000" in first_slot and "17.50" in first_slot and "100 %" in first_slot
    assert "正常" in page.locator("#market-checks li[data-check='reconcile']").text_content()
    page.locator(".map-card").screenshot(path=str(SCREENSHOTS / "dashboard_live_map_ja.png"))
    page.locator("#live-card").screenshot(path=str(SCREENSHOTS / "dashboard_live_ja.png"))
    page.locator("#market-card").screenshot(path=str(SCREENSHOTS / "dashboard_market_ja.png"))

    # a new count reaches the map on the next refresh
    bus.publish(crowd.COUNTS, _count("jr_gates", NOW, 450, "F"))
    page.wait_for_selector("#map path.los[data-zone='jr_gates'][data-los='F'][data-state='live']", timeout=15_000)

    # English
    page.click("#lang-switch")
    page.wait_for_function("() => document.querySelector('#live-legend').textContent.includes('flow breaks down')")
    assert "stale" in page.locator("#live-chokepoint-rows tr[data-zone='west_deck']").text_content()
    assert "pick-up ride-88" in page.locator("#live-vehicle-rows").text_content()
    assert page.locator("#market-card h3").first.text_content() == "Dead letters"
    assert "OK" in page.locator("#market-checks li[data-check='verify']").text_content()
    assert page.locator("#map path.los[data-zone='odakyu_gates']").get_attribute("data-los") == "E"  # redrawn
    page.locator("#live-card").screenshot(path=str(SCREENSHOTS / "dashboard_live_en.png"))
    page.locator("#market-card").screenshot(path=str(SCREENSHOTS / "dashboard_market_en.png"))

    # the gateway stops answering: what is shown is no longer live
    page.route("**/v1/operator/live", lambda route: route.fulfill(status=503, body="{}"))
    page.wait_for_selector("#live-status[data-state='stale']", timeout=15_000)
    assert page.locator("#map path.los[data-zone='odakyu_gates']").get_attribute("data-state") == "stale"
    assert page.locator("#map path.flow").count() == 0
    assert strays == []
    context.close()
