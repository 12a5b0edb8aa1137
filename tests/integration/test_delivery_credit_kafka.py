"""A co-owned car's delivery earnings over the real broker and the real ledger: a parcel only the group's Leaf
can carry is held in the group's book; the logistics worker is killed once the parcel is assigned and started
again (its open parcels rebuilt from the topics); the parcel is delivered once on logistics' fast clock, booked by
settlement in PostgreSQL with the payout to the group, and recorded by mobility as the group's credit for the
month."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from services.localstack import LocalStack
from shared.contracts.base import utcnow
from shared.contracts.logistics import ParcelAssigned, ParcelDelivered, ParcelRequested
from shared.contracts.mobility import CoownedUsageRecorded

from .conftest import ledger_entry, wait_until
from .test_energy_pipeline import read_topic
from .test_mobility_logistics import send

pytestmark = pytest.mark.integration
TOKYO = ZoneInfo("Asia/Tokyo")
GROUP = "ebina-kashiwa-ev"


@pytest.fixture(scope="module")
def credit_stack(kafka_bootstrap, tmp_path_factory) -> LocalStack:
    # Logistics' clock starts at 11:00 Japan time and runs 60 times faster, so the round is driven in seconds;
    # no ride vehicle is lent, so the 90 kg parcel can only go on the Leaf (100 kg).
    stack = LocalStack(kafka_bootstrap, "sqlite://", Path(tmp_path_factory.mktemp("credit")),
                       services=("mobility", "logistics"),
                       env={"CITYMATCH_LOGISTICS_CLOCK_START": "11:00", "CITYMATCH_LOGISTICS_TIME_SCALE": "60",
                            "CITYMATCH_LOGISTICS_FLEET_DEPOTS": "none"})
    stack.start(timeout_s=240)
    yield stack
    stack.stop()


def test_a_parcel_the_leaf_delivered_pays_the_group_on_the_ledger_and_in_its_month(credit_stack, kafka_bootstrap,
                                                                                   stack):
    pid = f"leaf-{uuid.uuid4().hex[:8]}"
    start = datetime.combine(utcnow().astimezone(TOKYO).date(), time(11, 0), TOKYO)   # logistics' clock
    send(kafka_bootstrap, "logistics.requests", ParcelRequested(
        parcel_id=pid, sender="shop-7", depot="lalaport", lat=35.4580, lon=139.3967, deliver_from=start,
        deliver_until=start + timedelta(hours=3), weight_kg=90.0, size_l=150))

    def assigned():
        return [p for p in read_topic(kafka_bootstrap, "logistics.assignments")
                if isinstance(p, ParcelAssigned) and p.parcel_id == pid]

    plan = wait_until(assigned, 90, "the parcel assigned")[-1]
    assert plan.courier == "ev-leaf"
    credit_stack.crash_and_restart("logistics", timeout_s=240)

    def delivered():
        return [p for p in read_topic(kafka_bootstrap, "logistics.assignments")
                if isinstance(p, ParcelDelivered) and p.parcel_id == pid]

    [done] = wait_until(delivered, 180, "the parcel delivered on logistics' fast clock")
    assert done.delivered_at == plan.planned_at
    assert done.courier == "ev-leaf" and done.operator == GROUP and done.payout_yen > 0

    def credit():
        return [u for u in read_topic(kafka_bootstrap, "mobility.coowned")
                if isinstance(u, CoownedUsageRecorded) and u.ref == f"delivery:{pid}"]

    [usage] = wait_until(credit, 60, "the group's credit on mobility.coowned")
    assert (usage.group, usage.car, usage.credit_sen) == (GROUP, "ev-leaf", done.payout_yen * 100)

    booked = wait_until(lambda: ledger_entry(stack.database_url, "delivery_fee", pid), 60,
                        "the delivery fee on the ledger")
    assert len(delivered()) == 1 and len(credit()) == 1      # nothing doubled by the crash
    postings = {row[0]: row[2] for row in booked.body["postings"]}
    assert postings[f"fleet:{GROUP}"] == done.payout_yen * 100
    assert sum(postings.values()) == 0
