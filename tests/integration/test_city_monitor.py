"""The city's eye over real Kafka: a surge in crowd counts becomes an anomaly on city.anomalies."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from kafka import KafkaProducer

from services.localstack import LocalStack
from shared.contracts.base import Envelope
from shared.contracts.codec import encode
from shared.contracts.crowd import ANOMALIES, COUNTS, CrowdAnomalyDetected, CrowdCountObserved
from simulator.run import network_for
from simulator.scenario import load_scenario

from .conftest import wait_until
from .test_energy_pipeline import read_topic

pytestmark = pytest.mark.integration


def test_surge_in_counts_is_reported_as_anomaly(kafka_bootstrap, tmp_path: Path):
    """Counts ten times any normal day's, for a full window, yield a 'surge' anomaly for that zone."""
    zone = sorted(network_for(load_scenario("ebina_weekday")).chokepoints)[0]
    monitor = LocalStack(kafka_bootstrap, "sqlite://", tmp_path, services=("city-monitor",))
    monitor.start(timeout_s=120)
    try:
        day = datetime.fromisoformat("2026-11-30T03:00:00+09:00")
        source = f"test-{uuid.uuid4().hex[:8]}"
        producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        for minute in range(8):
            count = CrowdCountObserved(zone=zone, minute_start=day + timedelta(minutes=minute), persons=5000,
                                       density_p_m2=3.0, los="F", source=source)
            producer.send(COUNTS.name, key=zone.encode(), value=encode(Envelope.wrap(count, "test"))).get(10)
        producer.close()

        def surge():
            return [a for a in read_topic(kafka_bootstrap, ANOMALIES.name) if isinstance(a, CrowdAnomalyDetected)
                    and a.zone == zone and a.minute_start >= day and a.kind == "surge"]

        anomalies = wait_until(surge, 60, "a surge anomaly on city.anomalies")
        assert anomalies[0].observed >= 5000 * 5 > anomalies[0].expected
    finally:
        monitor.stop()
