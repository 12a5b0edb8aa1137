"""Co-owned EVs over the real broker and database: members' bookings answered by the mobility worker, a group
car's metered charging and its bill's PV part recorded, the worker killed and restarted (its books rebuilt from
mobility.coowned), and an operator's close, sent twice, booked by settlement as one cost_share entry with each
member's bill."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from kafka import KafkaProducer

from services.localstack import LocalStack
from services.settlement.read_model import open_read_model
from shared.contracts import charging as ev
from shared.contracts.base import Envelope, utcnow
from shared.contracts.charging import ChargingBilled, ChargingSessionMetered
from shared.contracts.codec import encode
from shared.contracts.mobility import (
    COOWNED,
    COST_SHARES,
    CoownedBookingAnswered,
    CoownedBookingRequested,
    CoownedPeriodClosed,
    CoownedUsageRecorded,
    CostShareSettled,
)

from .conftest import ledger_entry, wait_until
from .test_energy_pipeline import read_records, read_topic

pytestmark = pytest.mark.integration
TOKYO_OFFSET = "+09:00"


@pytest.fixture(scope="module")
def group_stack(kafka_bootstrap, tmp_path_factory):
    """A mobility worker with one group of its own (a fresh id, so other tests' bookings never meet it)."""
    run = Path(tmp_path_factory.mktemp("coowned"))
    group = f"coop-{uuid.uuid4().hex[:8]}"
    path = run / "groups.json"
    path.write_text(json.dumps([{
        "id": group, "shares": {"aoki": 2, "baba": 1},
        "cars": [{"id": f"{group}-leaf", "battery_kwh": 40, "wh_per_km": 150, "instalment_yen": 68500,
                  "insurance_yen": 6200},
                 {"id": f"{group}-sakura", "battery_kwh": 20, "wh_per_km": 125, "instalment_yen": 42300,
                  "insurance_yen": 4800}],
        "pv_yen_per_kwh": 15, "grid_yen_per_kwh": 26.2}]), encoding="utf-8")
    stack = LocalStack(kafka_bootstrap, "sqlite://", run, services=("mobility",),
                       env={"CITYMATCH_MOBILITY_COOWNED_GROUPS": str(path)})
    stack.start(timeout_s=240)
    yield stack, group
    stack.stop()


def send(producer: KafkaProducer, topic: str, payload) -> None:
    producer.send(topic, key=payload.key().encode(), value=encode(Envelope.wrap(payload, "test"))).get(10)


def test_bookings_charging_a_restart_and_a_close_end_as_one_bill_per_member(group_stack, kafka_bootstrap, stack):
    mobility, group = group_stack
    # a month ahead, Japan time: the period the bookings fall in
    ahead = (utcnow() + timedelta(days=40)).date()
    day = datetime.fromisoformat(f"{ahead:%Y-%m}-10T00:00:00{TOKYO_OFFSET}")
    period = f"{day:%Y-%m}"
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")

    def booking(bid: str, member: str, start_h: int, hours: int) -> CoownedBookingRequested:
        start = day + timedelta(hours=start_h)
        return CoownedBookingRequested(booking_id=f"{group}-{bid}", group=group, member=member, start=start,
                                       end=start + timedelta(hours=hours), distance_m=20_000)

    def answers() -> dict[str, CoownedBookingAnswered]:
        return {p.booking_id.removeprefix(f"{group}-"): p for p in read_topic(kafka_bootstrap, COOWNED.name)
                if isinstance(p, CoownedBookingAnswered) and p.group == group}

    for request in (booking("b1", "aoki", 8, 3), booking("b2", "baba", 9, 1)):
        send(producer, COOWNED.name, request)
    first = wait_until(lambda: (a := answers()) and len(a) == 2 and a, 90, "both members' answers")
    assert first["b1"].accepted and first["b2"].accepted and first["b1"].car != first["b2"].car
    send(producer, ev.SESSIONS.name, ChargingSessionMetered(
        charger="carport/cp-1", vehicle=f"{group}-leaf", transaction_id=41, kwh=Decimal("10.000"),
        started_at=day + timedelta(hours=12), read_at=day + timedelta(hours=14), final=True))
    wait_until(lambda: [p for p in read_topic(kafka_bootstrap, COOWNED.name)
                        if isinstance(p, CoownedUsageRecorded) and p.group == group], 60, "the charge recorded")

    mobility.crash_and_restart("mobility", timeout_s=240)  # SIGKILL: the books live only in memory
    # Both cars are held 09:00-10:00: after the restart the book must still know it.
    send(producer, COOWNED.name, booking("b3", "aoki", 9, 1))
    third = wait_until(lambda: answers().get("b3"), 90, "the answer after the restart")
    assert not third.accepted and "booked by" in third.reason and third.free_cars == ()
    again = booking("b1", "aoki", 8, 3)
    send(producer, COOWNED.name, again)  # a redelivered request: its first answer, no second booking
    # the charging service's bill for the same transaction says 4 of its 10 kWh were PV
    send(producer, ev.BILLS.name, ChargingBilled(
        charger="carport/cp-1", transaction_id=41, vehicle=f"{group}-leaf", participant=group, site="carport",
        kwh=Decimal("10.000"), renewable_kwh=Decimal("4.000"), fee_yen_per_kwh=Decimal("0.50"),
        stopped_at=day + timedelta(hours=14)))
    wait_until(lambda: [p for p in read_topic(kafka_bootstrap, COOWNED.name)
                        if isinstance(p, CoownedUsageRecorded) and p.group == group and p.pv_wh], 60,
               "the bill's PV part recorded")
    close = CoownedPeriodClosed(group=group, period=period)
    send(producer, COOWNED.name, close)
    send(producer, COOWNED.name, close)  # an operator's retry
    producer.close()

    ref = f"{group}:{period}"

    booked = wait_until(lambda: ledger_entry(stack.database_url, "cost_share", ref), 90, "the split on the ledger")
    fact = booked.body["fact"]
    by = {m["member"]: m for m in fact["members"]}
    assert by["aoki"]["use_min"] == 180 and by["baba"]["use_min"] == 60
    assert by["aoki"]["instalment_sen"] == 3 * by["baba"]["instalment_sen"]  # by booked hours
    assert fact["instalment_sen"] == 6_850_000 + 4_230_000
    # the metered 10 kWh: 4 at the PV price (the bill, after the restart), 6 at the grid's
    assert fact["energy_sen"] + fact["fleet_energy_sen"] == 6_000 * 2620 // 1000 + 4_000 * 1500 // 1000
    splits = [p for p in read_topic(kafka_bootstrap, COST_SHARES.name)
              if isinstance(p, CostShareSettled) and p.group == group]
    assert len(splits) == 2 and splits[0] == splits[1]  # the close twice: the same split twice
    ledger = open_read_model(stack.database_url)
    try:
        assert sum(1 for e in ledger.entries() if e.kind == "cost_share" and e.ref == ref) == 1
        [aoki] = [p for p in ledger.statement("aoki").payments if p["ref"] == ref]
        assert Decimal(aoki["net_yen"]) == -Decimal(by["aoki"]["bill_sen"]) / 100
        assert ledger.verify().ok
    finally:
        ledger.close()
    assert len([a for a in read_topic(kafka_bootstrap, COOWNED.name)
                if isinstance(a, CoownedBookingAnswered) and a.booking_id == f"{group}-b1"]) >= 1
    assert not [r for r in read_records(kafka_bootstrap, f"{COOWNED.name}.dlq") if group.encode() in r.value]
