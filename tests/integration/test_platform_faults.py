"""The services beyond the market and settlement through a killed broker: charging and its OCPP charger gateway,
incentives, mobility, logistics and the city monitor each say they are not ready while the broker is gone,
are ready again once it is back, and a ride asked before the outage is answered once, not again after it.

(None of them keeps state in PostgreSQL: what they know is replayed from their topics, so the broker is the fault
that matters; the market's and settlement's database faults are in test_faults.py.)
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from kafka import KafkaProducer

from services.localstack import LocalStack
from shared.contracts.base import Envelope, utcnow
from shared.contracts.codec import encode
from shared.contracts.mobility import ASSIGNMENTS, REQUESTS, RideAnswered, RideRequested

from .faults import REPO, Servers, instances, read_payloads, ready, wait_until

pytestmark = pytest.mark.integration

SERVICES = ("charging", "charger-gateway", "incentives", "mobility", "logistics", "city-monitor")
START_WITHIN_S = 300  # six processes starting at once on 2 cores beside the rest of the suite
NOT_READY_WITHIN_S = 30  # each probes the broker every second with a 2 s timeout


@pytest.fixture(scope="module")
def platform() -> Iterator[tuple[Servers, LocalStack]]:
    servers = Servers()
    run_dir = REPO / ".run" / "platform-faults"  # logs kept after the run
    shutil.rmtree(run_dir, ignore_errors=True)
    local = None
    try:
        servers.kafka("reset")
        servers.kafka("start")
        local = LocalStack(servers.bootstrap, "sqlite://", run_dir, services=SERVICES, env={
            "CITYMATCH_ENVIRONMENT": "test", "CITYMATCH_TOKEN_SECRET": f"test-{uuid.uuid4().hex}",
            "CITYMATCH_CHARGING_OCPP_PORT": "0",
            # The fleet's fast clock starts at 07:00 Japan time, inside its working hours whatever the hour.
            "CITYMATCH_MOBILITY_TIME_SCALE": "120", "CITYMATCH_MOBILITY_CLOCK_START": "07:00"})
        local.start(timeout_s=START_WITHIN_S)
        yield servers, local
    finally:
        if local is not None:
            local.stop()
        servers.kafka("stop")


def _ride(bootstrap: str) -> str:
    rid = f"ride-{uuid.uuid4().hex[:8]}"
    now = utcnow()  # the service's fast clock is this morning's: the window spans it wherever it is
    payload = RideRequested(request_id=rid, rider="rider-f", origin_lat=35.45528, origin_lon=139.38917,
                            destination_lat=35.451183, destination_lon=139.391086,
                            earliest_pickup=now - timedelta(days=1), latest_arrival=now + timedelta(days=2))
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        producer.send(REQUESTS.name, key=payload.key().encode(), value=encode(Envelope.wrap(payload, "test"))).get(10)
    finally:
        producer.close()
    return rid


def _answers(bootstrap: str, rid: str) -> list[RideAnswered]:
    return [p for p in read_payloads(bootstrap, ASSIGNMENTS.name)
            if isinstance(p, RideAnswered) and p.request_id == rid]


@pytest.mark.timeout(900)
def test_every_service_is_not_ready_without_the_broker_and_answers_once_after_it(platform):
    servers, local = platform
    ports = {name: info["port"] for name, info in instances(local.run_dir).items()}
    assert set(ports) == set(SERVICES)
    before = _ride(servers.bootstrap)
    wait_until(lambda: _answers(servers.bootstrap, before), 120, "the answer to the ride asked before the outage")

    servers.kill_broker()
    for name, port in ports.items():
        wait_until(lambda p=port: not ready(p), NOT_READY_WITHIN_S, f"{name} to say it is not ready")
    assert all(local.procs[name].poll() is None for name in SERVICES), "a service died with the broker"

    servers.kafka("start")
    for name, port in ports.items():
        wait_until(lambda p=port: ready(p), 180, f"{name} ready again")
    after = _ride(servers.bootstrap)
    wait_until(lambda: _answers(servers.bootstrap, after), 120, "the answer to the ride asked after the outage")
    # The outage made nobody answer twice: one answer per ride.
    assert len(_answers(servers.bootstrap, before)) == 1
    assert len(_answers(servers.bootstrap, after)) == 1
