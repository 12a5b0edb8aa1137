"""The campaign panel's curve: the goal place's live load beside the simulator's day without offers, and what
the window lost against it so far; over HTTP for operators only."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from services.gateway.app import create_app
from services.gateway.campaign_curves import CrowdCurves
from services.gateway.campaign_feed import BusCampaigns
from services.gateway.publisher import BusPublisher
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus
from shared.contracts import crowd
from shared.contracts.incentives import CAMPAIGNS, CampaignLaunched

from .conftest import SETTINGS, auth
from .test_campaign_routes import CAMPAIGN

TOKYO = ZoneInfo("Asia/Tokyo")
DAY = date(2026, 12, 2)
OPERATOR = auth("o-ops", role="operator")


def forecast(zone: str = "odakyu_gates", day: date = DAY, level: int = 30) -> crowd.CrowdForecastPublished:
    return crowd.CrowdForecastPublished(zone=zone, day=day, persons=(level,) * 1440)


def count(minute: int, persons: int, zone: str = "odakyu_gates", day: date = DAY) -> crowd.CrowdCountObserved:
    start = datetime(day.year, day.month, day.day, tzinfo=TOKYO) + timedelta(minutes=minute)
    return crowd.CrowdCountObserved(zone=zone, minute_start=start, persons=persons, density_p_m2=0.1, los="A")


def test_the_window_loses_only_what_was_observed_against_the_counterfactual() -> None:
    """Live 24 a minute against 30 without the campaign over the first 10 minutes of 07:30-08:30: 60 removed
    so far, and the 50 minutes still to come claim nothing."""
    curves = CrowdCurves()
    curves.add(forecast())
    for m in range(450, 460):  # 07:30-07:40 Japan time
        curves.add(count(m, 24))
    curves.add(count(455, 24))  # redelivered: the same minute
    c = curves.curve("odakyu_gates", DAY, ("07:30", "08:30"))
    assert c["window_minutes"] == 60 and c["window_minutes_observed"] == 10
    assert (c["window_without_campaign"], c["window_live"], c["removed_so_far"]) == (300, 240, 60)
    assert len(c["minutes"]) == len(c["without_campaign"]) == len(c["live"]) == 288
    i = c["minutes"].index(450)
    assert c["without_campaign"][i] == 30.0 and c["live"][i] == 24.0 and c["live"][i + 2] is None


def test_a_bin_under_way_is_its_mean_not_a_drop_and_days_do_not_mix() -> None:
    curves = CrowdCurves()
    curves.add(forecast())
    curves.add(count(452, 30))  # one minute of the 07:30 bin so far
    curves.add(count(452, 5, day=DAY + timedelta(days=1)))  # the next day's same minute: its own day
    c = curves.curve("odakyu_gates", DAY, ("07:30", "08:30"))
    assert c["live"][c["minutes"].index(450)] == 30.0 and c["removed_so_far"] == 0
    assert curves.curve("odakyu_gates", DAY, ("07:30", "08:30"), bin_minutes=15)["minutes"][:2] == [0, 15]


def test_without_a_forecast_or_counts_the_curves_are_null() -> None:
    c = CrowdCurves().curve("odakyu_gates", DAY, ("07:30", "08:30"))
    assert c["without_campaign"] is None and c["live"] is None and c["removed_so_far"] is None


@pytest.fixture
def client():
    bus = InProcessBus()
    led = open_ledger("sqlite://")
    bus.publish(CAMPAIGNS, CampaignLaunched(**CAMPAIGN))
    bus.publish(crowd.FORECASTS, forecast())
    bus.publish(crowd.FORECASTS, forecast(zone="jr_gates", level=99))  # another place: not this goal's
    for m in range(450, 470):
        bus.publish(crowd.COUNTS, count(m, 27))
    yield TestClient(create_app(SETTINGS, BusPublisher(bus), LedgerReader(led), campaigns=BusCampaigns(bus))), bus
    led.close()


def test_operators_read_the_curve_of_a_campaign(client) -> None:
    http, bus = client
    r = http.get("/v1/operator/campaigns/gates-am/curve", headers=OPERATOR)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["place"], body["day"], body["window"]) == ("odakyu_gates", "2026-12-02", ["07:30", "08:30"])
    assert body["removed_so_far"] == 20 * 3 and body["counterfactual_source"] == "simulator"
    bus.publish(crowd.COUNTS, count(470, 20))  # a new minute is read on the next request
    assert http.get("/v1/operator/campaigns/gates-am/curve", headers=OPERATOR).json()["removed_so_far"] == 70


def test_unknown_campaign_is_404_and_others_are_403(client) -> None:
    http, _ = client
    r = http.get("/v1/operator/campaigns/nope/curve", headers=OPERATOR)
    assert r.status_code == 404 and "nope" in r.json()["message"]
    assert http.get("/v1/operator/campaigns/gates-am/curve", headers=auth("home-1")).status_code == 403


def test_without_a_campaign_feed_the_curve_is_503() -> None:
    led = open_ledger("sqlite://")
    http = TestClient(create_app(SETTINGS, BusPublisher(InProcessBus()), LedgerReader(led)))
    assert http.get("/v1/operator/campaigns/gates-am/curve", headers=OPERATOR).status_code == 503
    led.close()
