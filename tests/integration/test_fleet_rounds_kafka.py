"""A delivery round on a ride vehicle between its rides, over the real broker: the mobility worker offers its
shuttles' idle midday hours, the logistics worker plans a parcel no courier can carry into one and asks for the
round, the dispatcher holds it; after the mobility worker is killed and restarted, the round is still held (the
same answer to the request sent again, and an offer that leaves it out)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from services.localstack import LocalStack
from shared.contracts.base import utcnow
from shared.contracts.logistics import ParcelAssigned, ParcelRequested
from shared.contracts.mobility import FleetJobAnswered, FleetJobRequested, VehicleWindowsOffered

from .conftest import wait_until
from .test_energy_pipeline import read_topic
from .test_mobility_logistics import send

pytestmark = pytest.mark.integration
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture(scope="module")
def lending_stack(kafka_bootstrap, tmp_path_factory) -> LocalStack:
    run = Path(tmp_path_factory.mktemp("lending"))
    no_cars = run / "no-coowned-cars.json"
    no_cars.write_text(json.dumps([]), encoding="utf-8")
    # Both clocks start at 11:00 Japan time (the fleet lends its vehicles from 10:00 to 16:00), at the wall
    # clock's pace, so the two workers agree on the time whatever the hour the suite runs at.
    stack = LocalStack(kafka_bootstrap, "sqlite://", run, services=("mobility", "logistics"),
                       env={"CITYMATCH_MOBILITY_CLOCK_START": "11:00", "CITYMATCH_LOGISTICS_CLOCK_START": "11:00",
                            "CITYMATCH_LOGISTICS_COOWNED_CARS": str(no_cars)})
    stack.start(timeout_s=240)
    yield stack
    stack.stop()


def test_a_heavy_parcel_rides_a_shuttle_between_its_rides_held_across_a_restart(lending_stack, kafka_bootstrap):
    def offers() -> list[VehicleWindowsOffered]:
        return [o for o in read_topic(kafka_bootstrap, "mobility.assignments")
                if isinstance(o, VehicleWindowsOffered) and o.windows]

    wait_until(lambda: {o.vehicle for o in offers()} >= {"shuttle-3", "shuttle-4"}, 90, "the shuttles' offers")
    pid = f"heavy-{uuid.uuid4().hex[:8]}"
    start = datetime.combine(utcnow().astimezone(TOKYO).date(), time(11, 0), TOKYO)   # the workers' clock
    send(kafka_bootstrap, "logistics.requests", ParcelRequested(
        parcel_id=pid, sender="shop-7", depot="lalaport", lat=35.4580, lon=139.3967, deliver_from=start,
        deliver_until=start + timedelta(hours=4), weight_kg=90.0, size_l=150))

    def held():
        """The parcel's latest assignment and the accepted round on its shuttle whose hours contain it."""
        plans = [p for p in read_topic(kafka_bootstrap, "logistics.assignments")
                 if isinstance(p, ParcelAssigned) and p.parcel_id == pid]
        if not plans or not plans[-1].courier.startswith("shuttle-"):
            return None
        asked = {j.job_id: j for j in read_topic(kafka_bootstrap, "mobility.requests")
                 if isinstance(j, FleetJobRequested) and j.vehicle == plans[-1].courier}
        for a in read_topic(kafka_bootstrap, "mobility.assignments"):
            if isinstance(a, FleetJobAnswered) and a.accepted and a.job_id in asked \
                    and a.start < plans[-1].planned_at < a.end:
                return plans[-1], asked[a.job_id], a
        return None

    plan, job, answer = wait_until(held, 120, "the parcel's round held on a shuttle")
    assert job.job_id.startswith(f"delivery:lalaport:{plan.courier}:") and job.weight_kg == 90
    assert job.start.microsecond == 0 and job.end.microsecond == 0

    lending_stack.crash_and_restart("mobility", timeout_s=240)
    before = len(read_topic(kafka_bootstrap, "mobility.assignments"))
    send(kafka_bootstrap, "mobility.requests", job)          # the request again, as a redelivery would

    def answered_again():
        return [a for a in read_topic(kafka_bootstrap, "mobility.assignments")[before:]
                if isinstance(a, FleetJobAnswered) and a.job_id == job.job_id]

    again = wait_until(answered_again, 90, "the restarted dispatcher's answer")
    assert again[0] == answer                                 # held already: the first answer, not a second round

    def fresh_offer():
        return [o for o in read_topic(kafka_bootstrap, "mobility.assignments")[before:]
                if isinstance(o, VehicleWindowsOffered) and o.vehicle == plan.courier]

    offer = wait_until(fresh_offer, 60, "the restarted worker's offer for the shuttle")[-1]
    assert all(w.end <= job.start or w.start >= job.end for w in offer.windows)
