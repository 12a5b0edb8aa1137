"""The live city's riders over the real broker: the simulator asks the ride service for its walkers' rides on
mobility.requests, and the ride service answers each on mobility.assignments."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition

from services.localstack import LocalStack
from shared.contracts.codec import decode
from shared.contracts.mobility import RideAnswered, RideRequested
from shared.errors import EventDecodeError

from .conftest import wait_until

pytestmark = pytest.mark.integration


def read_so_far(bootstrap: str, topic: str, timeout_s: float = 20) -> list:
    """Every decodable payload on ``topic`` up to its end now: the live city writes to its topics every second,
    so a read that waits for a quiet topic would never end."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        end = consumer.end_offsets(parts)
        out, deadline = [], time.monotonic() + timeout_s
        while any(consumer.position(p) < end[p] for p in parts) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    try:
                        out.append(decode(record.value)[1])
                    except EventDecodeError:
                        continue
        return out
    finally:
        consumer.close()


@pytest.mark.timeout(480)
def test_simulated_riders_are_answered_by_the_ride_service(kafka_bootstrap, tmp_path: Path) -> None:
    # Both clocks at one simulated minute per second from the morning, so the requests fall in the fleet's hours.
    city = LocalStack(kafka_bootstrap, "sqlite://", tmp_path, services=("mobility", "city-sim"), env={
        "CITYMATCH_MOBILITY_TIME_SCALE": "60", "CITYMATCH_MOBILITY_CLOCK_START": "06:30",
        "CITYMATCH_SIM_START": "06:30", "CITYMATCH_SIM_AGENTS": "3000"})
    city.start(timeout_s=300)
    try:
        def requests() -> list[RideRequested] | None:
            got = [r for r in read_so_far(kafka_bootstrap, "mobility.requests")
                   if isinstance(r, RideRequested) and r.rider.startswith("sim-")]
            return got if len(got) >= 5 else None

        asked = wait_until(requests, 120, "the simulated riders' requests on mobility.requests", interval=2)
        assert all(r.request_id.startswith("sim-") and r.latest_arrival > r.earliest_pickup for r in asked)
        assert len({r.request_id for r in asked}) == len(asked)
        ids = {r.request_id for r in asked}

        def answers() -> list[RideAnswered] | None:
            got = [a for a in read_so_far(kafka_bootstrap, "mobility.assignments")
                   if isinstance(a, RideAnswered) and a.request_id in ids]
            return got if {a.request_id for a in got} == ids else None

        answered = wait_until(answers, 120, "the ride service's answers to the simulated riders", interval=2)
        assert {a.rider for a in answered} <= {r.rider for r in asked}
        assert any(a.accepted for a in answered)
    finally:
        city.stop()
