"""My rides and deliveries: the read model folds requests, answers and completions per rider (never another
rider's row), parcels per sender; the ride route checks its rules, naming the field, and a retry with the
app's own request id is the same request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from services.gateway.app import create_app
from services.gateway.publisher import BusPublisher
from services.gateway.rides import BusRides, RideBook
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus
from shared.contracts import mobility
from shared.contracts.logistics import ParcelAssigned, ParcelDelivered, ParcelRequested, ParcelReturned
from shared.contracts.mobility import RideAnswered, RideCompleted, RideRequested

from .conftest import SETTINGS, auth

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def _ask(request_id: str, rider: str) -> RideRequested:
    return RideRequested(request_id=request_id, rider=rider, origin_lat=35.4526, origin_lon=139.3908,
                         destination_lat=35.4553, destination_lon=139.3892, earliest_pickup=T0,
                         latest_arrival=T0 + timedelta(hours=1))


def test_a_ride_is_answered_and_completed_for_its_rider_only():
    book = RideBook()
    book.apply(_ask("r1", "hanako"))
    book.apply(_ask("r2", "hanako"))
    book.apply(RideAnswered(request_id="r1", rider="hanako", accepted=True, vehicle="ev-3", pickup_from=T0,
                            pickup_until=T0 + timedelta(minutes=10), fare_yen=480))
    book.apply(RideAnswered(request_id="r2", rider="taro", accepted=True, vehicle="ev-9"))  # names another rider
    book.apply(RideAnswered(request_id="r2", rider="hanako", accepted=False, reason="no seat in time",
                            alternative="car share at JR west"))
    book.apply(RideCompleted(request_id="r1", rider="hanako", vehicle="ev-3", operator="ebina-ev", fare_yen=480,
                             payout_yen=400, dropped_off_at=T0 + timedelta(minutes=25)))
    book.apply(RideAnswered(request_id="r1", rider="hanako", accepted=True, vehicle="ev-4"))  # late re-answer
    book.apply(_ask("r1", "hanako"))  # redelivered request
    rides = book.rides_for("hanako")
    assert [r["request_id"] for r in rides] == ["r2", "r1"]
    assert rides[0]["state"] == "declined" and rides[0]["alternative"] == "car share at JR west"
    assert rides[1]["state"] == "completed" and rides[1]["vehicle"] == "ev-3" and rides[1]["fare_yen"] == 480
    assert book.rides_for("taro") == []


def test_parcels_follow_their_latest_state_and_stay_final():
    book = RideBook()
    book.apply(ParcelRequested(parcel_id="p1", sender="shop-1", depot="lalaport", lat=35.45, lon=139.39,
                               deliver_from=T0, deliver_until=T0 + timedelta(hours=2), weight_kg=2, size_l=10))
    book.apply(ParcelAssigned(parcel_id="p1", courier="c-1", position=2, planned_at=T0, plan_revision=1))
    book.apply(ParcelDelivered(parcel_id="p1", sender="shop-1", courier="c-1", operator="ebina-ev", fee_yen=410,
                               payout_yen=328, delivered_at=T0 + timedelta(minutes=40)))
    book.apply(ParcelReturned(parcel_id="p1", sender="shop-1", depot="lalaport", reason="late duplicate"))
    (parcel,) = book.deliveries_for("shop-1")
    assert parcel["state"] == "delivered" and parcel["fee_yen"] == 410 and parcel["courier"] == "c-1"
    assert book.deliveries_for("hanako") == []


def test_keeps_the_newest_rows_per_rider():
    book = RideBook(keep_per_user=2)
    for i in range(4):
        book.apply(_ask(f"r{i}", "hanako"))
    assert [r["request_id"] for r in book.rides_for("hanako")] == ["r3", "r2"]
    book.apply(RideAnswered(request_id="r0", rider="hanako", accepted=True))  # forgotten: ignored
    assert len(book.rides_for("hanako")) == 2


@pytest.fixture
def client():
    bus = InProcessBus()
    app = create_app(SETTINGS, BusPublisher(bus), LedgerReader(open_ledger("sqlite://")), rides=BusRides(bus))
    return TestClient(app), bus


def _body(**kw):
    soon = datetime.now(UTC) + timedelta(minutes=20)
    body = {"origin": "jr_west", "destination": "vinawalk", "earliest_pickup": soon.isoformat(),
            "latest_arrival": (soon + timedelta(minutes=40)).isoformat()}
    return {**body, **kw}


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"origin": "tokyo"}, "origin", "unknown place"),
    ({"destination": "jr_west"}, "destination", "must differ from origin"),
    ({"earliest_pickup": "2026-01-01T08:00:00+09:00", "latest_arrival": "2026-01-01T09:00:00+09:00"},
     "earliest_pickup", "in the past"),
    ({"latest_arrival": "2020-01-01T00:00:00+00:00"}, "latest_arrival", "after earliest_pickup"),
    ({"earliest_pickup": "2026-12-02T08:00:00"}, "earliest_pickup", "timezone"),
    ({"party": 9}, "party", "less than or equal to 8"),
])
def test_bad_ride_requests_name_the_field(client, change, field, words):
    http, bus = client
    r = http.post("/v1/app/rides", json=_body(**change), headers=auth("hanako"))
    assert r.status_code == 422, r.text
    assert field in r.text and words in r.text
    assert bus.events(mobility.REQUESTS) == []


def test_a_retry_with_the_apps_id_is_the_same_request_and_the_answer_comes_back(client):
    http, bus = client
    body = _body(request_id="app-0001-abcd")
    first = http.post("/v1/app/rides", json=body, headers=auth("hanako")).json()
    again = http.post("/v1/app/rides", json=body, headers=auth("hanako")).json()
    other = http.post("/v1/app/rides", json=body, headers=auth("taro")).json()
    assert first == again and other["request_id"] != first["request_id"]
    (asked, _, _) = bus.events(mobility.REQUESTS)
    assert asked.rider == "hanako" and (asked.origin_lat, asked.origin_lon) == (35.454306, 139.389306)
    bus.publish(mobility.ASSIGNMENTS, RideAnswered(request_id=first["request_id"], rider="hanako", accepted=True,
                                                   vehicle="ev-1", fare_yen=350))
    rides = http.get("/v1/app/rides", headers=auth("hanako")).json()
    assert len(rides) == 1 and rides[0]["state"] == "accepted" and rides[0]["fare_yen"] == 350
    assert http.get("/v1/app/deliveries", headers=auth("hanako")).json() == []
    places = http.get("/v1/app/rides/places").json()
    assert {"jr_west", "vinawalk", "lalaport"} <= {p["key"] for p in places}
