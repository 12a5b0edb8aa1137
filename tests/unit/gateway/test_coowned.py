"""Co-owned cars: the read model shows a member their own bookings with the group's answer (never another
member's row); the booking route checks its rules, naming the field, publishes for the caller, and a retry with
the app's own booking id is the same booking; only an operator closes a group's month, the same event on a
retry."""

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
from shared.contracts.mobility import (
    CoownedBookingAnswered,
    CoownedBookingRequested,
    CoownedPeriodClosed,
    CoownedUsageRecorded,
)

from .conftest import OPERATOR, SETTINGS, auth

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
GROUP = "ebina-kashiwa-ev"


def _ask(booking_id: str, member: str, car: str | None = None) -> CoownedBookingRequested:
    return CoownedBookingRequested(booking_id=booking_id, group=GROUP, member=member, car=car, start=T0,
                                   end=T0 + timedelta(hours=3), distance_m=42_000)


def _answer(booking_id: str, member: str, accepted: bool, **kw) -> CoownedBookingAnswered:
    return CoownedBookingAnswered(booking_id=booking_id, group=GROUP, member=member, accepted=accepted, start=T0,
                                  end=T0 + timedelta(hours=3), period="2026-12", **kw)


def test_bookings_are_answered_for_the_member_who_asked_only():
    book = RideBook()
    book.apply(_ask("b1", "aoki", car="ev-leaf"))
    book.apply(_ask("b2", "aoki"))
    book.apply(_ask("b3", "baba"))
    book.apply(_answer("b1", "aoki", True, car="ev-sakura"))
    book.apply(_answer("b2", "baba", True, car="ev-leaf"))  # names another member: not aoki's row
    book.apply(_answer("b2", "aoki", False, reason="no car is free then", free_cars=("ev-leaf",)))
    book.apply(_ask("b1", "aoki", car="ev-leaf"))  # redelivered: keeps its answer
    book.apply(_ask("b1", "chiba"))  # another member reusing the id: no row for either
    book.apply(CoownedUsageRecorded(group=GROUP, period="2026-12", ref="charge:x/1", car="ev-leaf", at=T0, wh=5000))
    book.apply(CoownedPeriodClosed(group=GROUP, period="2026-12"))
    rows = book.bookings_for("aoki")
    assert [r["booking_id"] for r in rows] == ["b2", "b1"]
    assert rows[0]["state"] == "declined" and rows[0]["reason"] == "no car is free then"
    assert rows[0]["free_cars"] == ["ev-leaf"] and rows[0]["car"] is None
    assert rows[1]["state"] == "accepted" and rows[1]["asked_car"] == "ev-leaf" and rows[1]["car"] == "ev-sakura"
    assert rows[1]["period"] == "2026-12" and rows[1]["distance_m"] == 42_000
    assert [r["booking_id"] for r in book.bookings_for("baba")] == ["b3"]
    assert book.bookings_for("baba")[0]["state"] == "requested"
    assert book.bookings_for("chiba") == []
    assert book.rides_for("aoki") == [] and book.deliveries_for("aoki") == []


def test_keeps_the_newest_bookings_per_member():
    book = RideBook(keep_per_user=2)
    for i in range(4):
        book.apply(_ask(f"b{i}", "aoki"))
    assert [r["booking_id"] for r in book.bookings_for("aoki")] == ["b3", "b2"]
    book.apply(_answer("b0", "aoki", True, car="ev-leaf"))  # forgotten: ignored
    assert all(r["state"] == "requested" for r in book.bookings_for("aoki"))


@pytest.fixture
def client():
    bus = InProcessBus()
    app = create_app(SETTINGS, BusPublisher(bus), LedgerReader(open_ledger("sqlite://")), rides=BusRides(bus))
    return TestClient(app), bus


def _body(**kw):
    soon = datetime.now(UTC) + timedelta(minutes=30)
    body = {"group": GROUP, "car": "ev-leaf", "start": soon.isoformat(),
            "end": (soon + timedelta(hours=2)).isoformat(), "distance_km": 12.5}
    return {**body, **kw}


def _at(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"end": _at(timedelta(minutes=10))}, "end", "must be after start"),
    ({"start": _at(-timedelta(minutes=30)), "end": _at(timedelta(hours=1))}, "start", "in the past"),
    ({"start": _at(timedelta(days=61)), "end": _at(timedelta(days=61, hours=1))}, "start", "within 60 days"),
    ({"end": _at(timedelta(hours=25))}, "end", "within 24 hours of start"),
    ({"start": "2026-12-20T08:00:00"}, "start", "timezone"),
    ({"distance_km": -1}, "distance_km", "greater than or equal to 0"),
    ({"group": ""}, "group", "at least 1 character"),
    ({"member": "baba"}, "member", "Extra inputs are not permitted"),
])
def test_bad_bookings_name_the_field(client, change, field, words):
    http, bus = client
    r = http.post("/v1/app/coowned/bookings", json=_body(**change), headers=auth("aoki"))
    assert r.status_code == 422, r.text
    assert field in r.json()["message"] and words in r.text
    assert bus.events(mobility.COOWNED) == []


def test_a_booking_is_published_for_the_caller_and_a_retry_is_the_same_booking(client):
    http, bus = client
    body = _body(booking_id="app-0001-abcd")
    first = http.post("/v1/app/coowned/bookings", json=body, headers=auth("aoki"))
    assert first.status_code == 202, first.text
    again = http.post("/v1/app/coowned/bookings", json=body, headers=auth("aoki"))
    other = http.post("/v1/app/coowned/bookings", json=body, headers=auth("baba"))
    assert first.json() == again.json()
    assert other.json()["booking_id"] != first.json()["booking_id"]
    assert other.json()["event_id"] != first.json()["event_id"]
    changed = http.post("/v1/app/coowned/bookings", json={**body, "distance_km": 30}, headers=auth("aoki")).json()
    assert changed["booking_id"] == first.json()["booking_id"] and changed["event_id"] != first.json()["event_id"]
    asked = [e for e in bus.events(mobility.COOWNED) if isinstance(e, CoownedBookingRequested)]
    assert [e.member for e in asked] == ["aoki", "aoki", "baba", "aoki"]
    assert (asked[0].group, asked[0].car, asked[0].distance_m) == (GROUP, "ev-leaf", 12_500)
    assert asked[0].booking_id == first.json()["booking_id"]

    listed = http.get("/v1/app/coowned/bookings", headers=auth("aoki")).json()
    assert [b["booking_id"] for b in listed] == [first.json()["booking_id"]] and listed[0]["state"] == "requested"
    bus.publish(mobility.COOWNED, CoownedBookingAnswered(
        booking_id=first.json()["booking_id"], group=GROUP, member="aoki", accepted=False, start=asked[0].start,
        end=asked[0].end, period="2026-12", reason="ev-leaf is booked then", free_cars=("ev-sakura",)))
    (row,) = http.get("/v1/app/coowned/bookings", headers=auth("aoki")).json()
    assert row["state"] == "declined" and row["free_cars"] == ["ev-sakura"]
    assert row["reason"] == "ev-leaf is booked then"
    assert [b["booking_id"] for b in http.get("/v1/app/coowned/bookings", headers=auth("baba")).json()] == [
        other.json()["booking_id"]]


def test_any_car_and_no_distance_are_optional(client):
    http, bus = client
    body = _body()
    del body["car"], body["distance_km"]
    r = http.post("/v1/app/coowned/bookings", json=body, headers=auth("aoki"))
    assert r.status_code == 202, r.text
    (asked,) = bus.events(mobility.COOWNED)
    assert asked.car is None and asked.distance_m == 0 and asked.booking_id.startswith("b-")


def test_booking_needs_an_app_user(client):
    http, bus = client
    assert http.post("/v1/app/coowned/bookings", json=_body()).status_code == 401
    assert http.post("/v1/app/coowned/bookings", json=_body(), headers=OPERATOR).status_code == 403
    assert http.get("/v1/app/coowned/bookings", headers=auth("aoki", role="operator")).status_code == 403
    assert bus.events(mobility.COOWNED) == []


def test_the_broker_not_confirming_is_a_503_to_retry(client):
    http, _ = client

    class Down(BusPublisher):
        async def publish(self, *a, **kw):
            from services.gateway.publisher import BrokerUnavailable

            raise BrokerUnavailable("the broker did not confirm within 3 s")

    http.app.state.gateway.publisher = Down(InProcessBus())
    r = http.post("/v1/app/coowned/bookings", json=_body(booking_id="app-0002-abcd"), headers=auth("aoki"))
    assert r.status_code == 503 and r.headers["Retry-After"] == "2" and "same id" in r.json()["message"]


def test_only_an_operator_closes_a_month_and_a_retry_is_the_same_event(client):
    http, bus = client
    path = f"/v1/operator/coowned/{GROUP}/close"
    assert http.post(path, json={"period": "2026-11"}, headers=auth("aoki")).status_code == 403
    assert http.post(path, json={"period": "2026-11"}).status_code == 401
    assert bus.events(mobility.COOWNED) == []
    first = http.post(path, json={"period": "2026-11"}, headers=OPERATOR)
    assert first.status_code == 202, first.text
    again = http.post(path, json={"period": "2026-11"}, headers=auth("ops-kenji", role="operator"))
    assert first.json() == again.json()
    assert first.json()["group"] == GROUP and first.json()["period"] == "2026-11"
    other = http.post(path, json={"period": "2026-12"}, headers=OPERATOR).json()
    assert other["event_id"] != first.json()["event_id"]
    closes = bus.events(mobility.COOWNED)
    assert [(c.group, c.period) for c in closes] == [(GROUP, "2026-11"), (GROUP, "2026-11"), (GROUP, "2026-12")]
    for bad in ("2026-13", "2026-1", "november"):
        r = http.post(path, json={"period": bad}, headers=OPERATOR)
        assert r.status_code == 422 and "period" in r.json()["message"]
    assert http.post("/v1/operator/coowned/bad group!/close", json={"period": "2026-11"},
                     headers=OPERATOR).status_code == 422
