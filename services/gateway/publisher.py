"""How the gateway hands events to the bus: Kafka in production and tests, the in-process bus in the demo."""

from __future__ import annotations

import logging
from typing import Protocol

from shared.bus.inprocess import InProcessBus
from shared.events import Envelope, Payload
from shared.serialization import encode
from shared.topics import topic as catalogue_topic

log = logging.getLogger("citymatch.gateway")


class Publisher(Protocol):
    def publish(self, topic: str, payload: Payload) -> Envelope: ...
    def ready(self) -> bool: ...
    def close(self) -> None: ...


class KafkaPublisher:
    """Synchronous publish: the HTTP call returns only after the broker has the event (acks=all)."""

    def __init__(self, bootstrap: str, producer_name: str = "gateway", timeout_s: float = 10.0) -> None:
        from kafka import KafkaProducer

        self._producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0, max_block_ms=5000,
                                       client_id=f"citymatch-{producer_name}")
        self._name = producer_name
        self._timeout = timeout_s

    def publish(self, topic: str, payload: Payload) -> Envelope:
        catalogue_topic(topic)
        envelope = Envelope.wrap(payload, self._name)
        future = self._producer.send(topic, key=envelope.key.encode(), value=encode(envelope))
        future.get(timeout=self._timeout)
        return envelope

    def ready(self) -> bool:
        """Ready when the broker answers a metadata request for the topic orders go to."""
        try:
            return bool(self._producer.partitions_for("energy.orders"))
        except Exception:  # a readiness probe reports, it does not raise
            log.warning("Kafka not reachable from the gateway", exc_info=True)
            return False

    def close(self) -> None:
        self._producer.close(timeout=5)


class BusPublisher:
    """Publishes onto an in-process bus and runs it, so the demo's HTTP calls see the services react."""

    def __init__(self, bus: InProcessBus, producer_name: str = "gateway") -> None:
        self.bus = bus
        self._name = producer_name

    def publish(self, topic: str, payload: Payload) -> Envelope:
        envelope = self.bus.publish(topic, payload, producer=self._name)
        self.bus.run_until_idle()
        return envelope

    def ready(self) -> bool:
        return True

    def close(self) -> None:
        return None
