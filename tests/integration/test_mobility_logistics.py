"""Rides and parcels over the real broker: requests in; rider answers, vehicle plans, completed rides and
courier assignments out; bad messages to the dead-letter topics."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from kafka import KafkaProducer

from services.localstack import LocalStack
from shared.contracts.base import Envelope, utcnow
from shared.contracts.codec import encode
from shared.contracts.crowd import ANOMALIES
from shared.contracts.logistics import (
    SHOP_DAYS,
    STOCK,
    ParcelAssigned,
    ParcelRequested,
    ShopDayReported,
    StockAnomalyDetected,
    StockLevelReported,
)
from shared.contracts.mobility import (
    COOWNED,
    CoownedBookingAnswered,
    CoownedBookingRequested,
    RideAnswered,
    RideCompleted,
    RideRequested,
    VehiclePlanned,
)

from .conftest import ledger_entry, wait_until
from .test_energy_pipeline import read_records, read_topic

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def fleet_stack(kafka_bootstrap, tmp_path_factory) -> LocalStack:
    run = tmp_path_factory.mktemp("mobility")
    stack = LocalStack(kafka_bootstrap, "sqlite://", Path(run), services=("mobility", "logistics"),
                       # The fast clock starts at 07:00 Japan time, so the module runs in the fleet's working
                       # hours whatever the hour the suite runs at.
                       # Rounds go on couriers and the co-owned cars only (the ride vehicles' lending is tested in
                       # test_fleet_rounds_kafka.py on one clock for both services).
                       env={"CITYMATCH_MOBILITY_TIME_SCALE": "120", "CITYMATCH_MOBILITY_CLOCK_START": "07:00",
                            "CITYMATCH_LOGISTICS_FLEET_DEPOTS": "none"})
    stack.start(timeout_s=240)
    yield stack
    stack.stop()


def send(bootstrap: str, topic: str, payload) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    producer.send(topic, key=payload.key().encode(), value=encode(Envelope.wrap(payload, "test"))).get(10)
    producer.close()


def test_ride_request_is_answered_planned_and_completed(fleet_stack, kafka_bootstrap, stack):
    """LaLaport to the east exit: accepted with a fare, the vehicle's plan published, and (on the fast clock)
    the ride completes with the fare and the operator's payout, which settlement records on the ledger."""
    rid = f"ride-{uuid.uuid4().hex[:8]}"
    now = utcnow()  # the service's clock is this morning's, ahead of or behind the wall: the window spans both
    send(kafka_bootstrap, "mobility.requests", RideRequested(
        request_id=rid, rider="rider-1", origin_lat=35.45528, origin_lon=139.38917, destination_lat=35.451183,
        destination_lon=139.391086, earliest_pickup=now - timedelta(days=1), latest_arrival=now + timedelta(days=2)))

    def mine(kind):
        return [p for p in read_topic(kafka_bootstrap, "mobility.assignments")
                if isinstance(p, kind) and (getattr(p, "request_id", None) == rid
                                            or any(s.request_id == rid for s in getattr(p, "stops", ())))]

    answer = wait_until(lambda: mine(RideAnswered), 90, "the rider's answer")[0]
    assert answer.accepted and answer.fare_yen > 0 and answer.pickup_from <= answer.pickup_until
    plan = wait_until(lambda: mine(VehiclePlanned), 30, "the vehicle's plan")[0]
    assert plan.vehicle == answer.vehicle
    done = wait_until(lambda: mine(RideCompleted), 120, "the completed ride")[0]
    assert done.fare_yen == answer.fare_yen and 0 < done.payout_yen < done.fare_yen

    entry = wait_until(lambda: ledger_entry(stack.database_url, "fare", rid), 60, "the fare on the ledger")
    assert entry.body["fact"]["fare_sen"] == done.fare_yen * 100
    assert sorted(row[2] for row in entry.body["postings"]) == sorted(
        [-done.fare_yen * 100, done.payout_yen * 100, (done.fare_yen - done.payout_yen) * 100])


def test_bad_ride_request_goes_to_the_dead_letter_topic(fleet_stack, kafka_bootstrap):
    """A request whose arrival is before its pick-up does not decode: it lands on the DLQ with the field."""
    rid = f"bad-{uuid.uuid4().hex[:8]}"
    now = utcnow()
    body = RideRequested(request_id=rid, rider="r", origin_lat=35.45, origin_lon=139.39, destination_lat=35.46,
                         destination_lon=139.38, earliest_pickup=now, latest_arrival=now + timedelta(hours=1))
    envelope = Envelope.wrap(body, "test").model_copy(update={"payload": {**body.model_dump(mode="json"),
                                                                          "latest_arrival": now.isoformat()}})
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    producer.send("mobility.requests", key=rid.encode(), value=encode(envelope)).get(10)
    producer.close()

    def dead():
        return [r for r in read_records(kafka_bootstrap, "mobility.requests.dlq") if rid.encode() in r.value]

    record = wait_until(dead, 60, "the bad request on mobility.requests.dlq")[0]
    reasons = " ".join(v.decode() for k, v in record.headers if "reason" in k)
    assert "latest_arrival" in reasons


def test_parcel_request_is_assigned_to_a_courier(fleet_stack, kafka_bootstrap):
    """A parcel from LaLaport to a home gets a courier and a hand-over time inside its window."""
    pid = f"parcel-{uuid.uuid4().hex[:8]}"
    now = utcnow()
    send(kafka_bootstrap, "logistics.requests", ParcelRequested(
        parcel_id=pid, sender="shop-7", depot="lalaport", lat=35.4580, lon=139.3967, deliver_from=now,
        deliver_until=now + timedelta(hours=4), weight_kg=3.5, size_l=20))

    def assigned():
        return [p for p in read_topic(kafka_bootstrap, "logistics.assignments")
                if isinstance(p, ParcelAssigned) and p.parcel_id == pid]

    a = wait_until(assigned, 90, "the parcel's assignment")[0]
    assert a.courier.startswith(("courier-lalaport", "ev-")) and now <= a.planned_at <= now + timedelta(hours=4)


def test_shop_surge_after_a_crash_is_reported_once_with_its_evidence(fleet_stack, kafka_bootstrap):
    """Two weeks of steady mask sales at a shop, then the logistics service is killed and restarted, then a day of
    ten times the usual: the restarted service still knows the shop's past (replayed from Kafka), so the surge is
    on city.anomalies with its evidence, once; the stock view shows the shop out of masks."""
    shop = f"pharmacy-{uuid.uuid4().hex[:6]}"
    day0 = date(2020, 2, 3)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    for d in range(14):
        rep = ShopDayReported(shop=shop, item="masks", day=day0 + timedelta(days=d), sold=20 + d % 3, stock_end=40)
        producer.send(SHOP_DAYS.name, key=rep.key().encode(), value=encode(Envelope.wrap(rep, "test"))).get(10)
    producer.close()

    def levels():
        return [s for s in read_topic(kafka_bootstrap, STOCK.name) if isinstance(s, StockLevelReported)
                and s.shop == shop]

    wait_until(lambda: len(levels()) >= 14, 60, "the stock view of 14 steady days")
    fleet_stack.crash_and_restart("logistics", timeout_s=240)
    send(kafka_bootstrap, SHOP_DAYS.name, ShopDayReported(shop=shop, item="masks", day=day0 + timedelta(days=14),
                                                          sold=200, stock_end=0))

    def alerts():
        return [a for a in read_topic(kafka_bootstrap, ANOMALIES.name) if isinstance(a, StockAnomalyDetected)
                and a.shop == shop]

    found = wait_until(lambda: [a for a in alerts() if a.kind == "surge"], 90, "the surge on city.anomalies")
    assert found[0].observed == 200 and 19 <= found[0].expected <= 22 and "median" in found[0].evidence
    assert sorted(a.kind for a in alerts()) == ["stockout", "surge"]
    assert wait_until(lambda: [s for s in levels() if s.status == "out"], 30, "the shop out of masks")


def test_a_parcel_too_heavy_for_the_couriers_rides_on_a_coowned_car_held_in_its_book_across_a_restart(
        fleet_stack, kafka_bootstrap):
    """90 kg is more than a LaLaport courier carries: the round goes on the group's Leaf, asked for on
    mobility.coowned as the fleet's booking and accepted by the mobility worker; the logistics worker is killed
    and restarted (its calendar rebuilt from mobility.coowned), and the next heavy parcel's round keeps clear of
    the first one's hours and turnaround."""
    def heavy(pid: str) -> ParcelRequested:
        now = utcnow()
        return ParcelRequested(parcel_id=pid, sender="shop-7", depot="lalaport", lat=35.4580, lon=139.3967,
                               deliver_from=now, deliver_until=now + timedelta(hours=4), weight_kg=90.0, size_l=150)

    def held_round(pid: str):
        """The parcel's latest assignment on the Leaf and the accepted fleet booking whose hours contain it."""
        events = read_topic(kafka_bootstrap, COOWNED.name)
        answers = {e.booking_id: e for e in events if isinstance(e, CoownedBookingAnswered)}
        plans = [p for p in read_topic(kafka_bootstrap, "logistics.assignments")
                 if isinstance(p, ParcelAssigned) and p.parcel_id == pid]
        if not plans or plans[-1].courier != "ev-leaf":
            return None
        for e in events:
            if (isinstance(e, CoownedBookingRequested) and e.member == "fleet"
                    and e.booking_id.startswith("delivery:lalaport:ev-leaf:") and e.start < plans[-1].planned_at < e.end
                    and e.booking_id in answers and answers[e.booking_id].accepted):
                return plans[-1], e
        return None

    first = f"heavy-{uuid.uuid4().hex[:8]}"
    send(kafka_bootstrap, "logistics.requests", heavy(first))
    _, hold = wait_until(lambda: held_round(first), 90, "the first round held on the Leaf")
    assert hold.group == "ebina-kashiwa-ev" and hold.distance_m > 0
    fleet_stack.crash_and_restart("logistics", timeout_s=240)
    second = f"heavy-{uuid.uuid4().hex[:8]}"
    send(kafka_bootstrap, "logistics.requests", heavy(second))
    _, again = wait_until(lambda: held_round(second), 90, "the second round held on the Leaf")
    gap = timedelta(minutes=15)
    assert again.booking_id != hold.booking_id
    assert again.start >= hold.end + gap or again.end + gap <= hold.start
