"""How the gateway hands events to the bus: Kafka in production and tests, the in-process bus in the demo.

Which Kafka client does what: the gateway publishes with aiokafka, on its own event loop. Each request's
sends go into the producer's batches and the request awaits the broker's acknowledgement without a thread,
a lock or a callback hop per event (kafka-python's producer cost the gateway a thread handover per send:
measured, it was about 40 % of the gateway's CPU in ``make bench-pipeline``). A short ``linger_ms`` lets the
sends of concurrent requests share one produce request. The readiness probe and the read-side feeds
(rejections, offers, replay) use kafka-python, where a blocking client in a thread is simplest; the Faust
workers use aiokafka under Faust.

A publish is confirmed when the broker has the event (acks=all, idempotent producer) or refused with
:class:`BrokerUnavailable` after ``confirm_timeout_s``. The producer's request timeout is below that bound,
so an event that was refused is normally expired rather than sent later behind the client's back (if the
broker stored it and only its answer was lost, the order id, derived from the client's Idempotency-Key,
makes a retry of such an order the same order).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any, Protocol

from shared.bus.inprocess import InProcessBus
from shared.contracts import energy, ledger
from shared.contracts.base import Envelope, Payload, Topic
from shared.contracts.codec import encode
from shared.errors import CitymatchError
from shared.runtime import Outgoing

log = logging.getLogger("citymatch.gateway")


class BrokerUnavailable(CitymatchError):
    """The broker did not confirm an event in time; the client may retry (HTTP 503 with Retry-After)."""

    def __init__(self, message: str, retry_after_s: int = 2) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Publisher(Protocol):
    async def start(self) -> None: ...
    async def publish(self, topic: Topic, payload: Payload, *, event_id: str | None = None) -> Envelope: ...
    async def ready(self) -> bool: ...
    async def stop(self) -> None: ...
    def close(self) -> None: ...


class KafkaPublisher:
    """Publishes with aiokafka; each call awaits the broker's acknowledgement on the event loop.

    The producer connects in the background, retried until the broker answers; until then every publish is a
    prompt :class:`BrokerUnavailable` and /ready is false. Once connected, aiokafka reconnects by itself after
    an outage; a publish meanwhile fails after ``confirm_timeout_s``.
    """

    def __init__(self, bootstrap: str, producer_name: str = "gateway", confirm_timeout_s: float = 3.0,
                 topics: Iterable[Topic] = (energy.ORDERS, ledger.RETIREMENTS),
                 probe_timeout_s: float = 1.0, retry_s: float = 1.0, linger_ms: int = 2) -> None:
        self._bootstrap = bootstrap
        self._name = producer_name
        self._timeout = confirm_timeout_s
        self._probe_timeout = probe_timeout_s
        self._retry_s = retry_s
        self._linger_ms = linger_ms
        self._topics = tuple(t.name for t in topics)
        self._producer: Any = None
        self._probe: Any = None
        self._probe_lock = asyncio.Lock()
        self._connecting: asyncio.Task[None] | None = None

    async def _make_producer(self) -> Any:
        from aiokafka import AIOKafkaProducer

        timeout_ms = int(self._timeout * 1000)
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap, acks="all", enable_idempotence=True, linger_ms=self._linger_ms,
            request_timeout_ms=max(500, timeout_ms - 200), retry_backoff_ms=100,
            client_id=f"citymatch-{self._name}")
        try:
            await producer.start()
            for name in self._topics:  # learn partitions now, so no request waits for metadata later
                await producer.partitions_for(name)
        except BaseException:
            await producer.stop()
            raise
        return producer

    async def start(self) -> None:
        """Connect in the background; the first attempt is awaited briefly so a healthy start is ready at once."""
        self._connecting = asyncio.create_task(self._connect())
        await asyncio.wait([self._connecting], timeout=self._timeout)

    async def _connect(self) -> None:
        while self._producer is None:
            try:
                self._producer = await asyncio.wait_for(self._make_producer(), self._timeout * 2)
                log.info("gateway producer connected to %s", self._bootstrap)
            except Exception as exc:  # the broker is down: try again, /ready says not ready meanwhile
                log.warning("Kafka not reachable at %s (%s); retrying in %.1f s", self._bootstrap,
                            exc.__class__.__name__, self._retry_s)
                await asyncio.sleep(self._retry_s)

    async def publish(self, topic: Topic, payload: Payload, *, event_id: str | None = None) -> Envelope:
        from aiokafka.errors import KafkaError

        Outgoing(topic, payload)  # the topic must carry the payload's type
        envelope = Envelope.wrap(payload, self._name, event_id=event_id)
        if self._producer is None:
            raise BrokerUnavailable(f"the gateway has no connection to the broker at {self._bootstrap} yet")
        key, value = envelope.key.encode(), encode(envelope)
        try:
            # send() returns once the event is in a batch (it waits only for a topic's metadata or for room in
            # the buffer); the future it gives resolves when the broker has acknowledged the batch. One timeout
            # over both (no task per await, as wait_for would make; aiokafka ignores a cancelled future).
            async with asyncio.timeout(self._timeout):
                delivery = await self._producer.send(topic.name, value=value, key=key)
                await delivery
        except (TimeoutError, KafkaError) as exc:
            log.warning("broker did not confirm %s on %s: %r", envelope.event_id, topic.name, exc)
            raise BrokerUnavailable(f"the broker did not confirm within {self._timeout:g} s") from None
        return envelope

    async def ready(self) -> bool:
        """Ready when the producer is connected and the broker answers a metadata request within the probe's
        timeout (a fresh request, not the producer's cached metadata)."""
        if self._producer is None:
            return False
        async with self._probe_lock:
            try:
                return await asyncio.wait_for(asyncio.to_thread(self._ask_broker), self._probe_timeout + 0.5)
            except Exception:  # a readiness probe reports, it does not raise
                log.warning("Kafka not reachable from the gateway")
                self._drop_probe()
                return False

    def _ask_broker(self) -> bool:
        from kafka.admin import KafkaAdminClient

        timeout_ms = int(self._probe_timeout * 1000)
        if self._probe is None:
            self._probe = KafkaAdminClient(bootstrap_servers=self._bootstrap, client_id=f"citymatch-{self._name}-probe",
                                           request_timeout_ms=timeout_ms, bootstrap_timeout_ms=timeout_ms,
                                           reconnect_backoff_max_ms=500)
        return bool(self._probe.describe_cluster().get("brokers"))

    def _drop_probe(self) -> None:
        probe, self._probe = self._probe, None
        if probe is not None:
            try:
                probe.close()
            except Exception:  # closing a broken client may fail again; it is dropped either way
                log.debug("closing the readiness probe failed", exc_info=True)

    async def stop(self) -> None:
        """Flush what is queued (bounded by the confirm timeout) and disconnect; on the loop that started it."""
        if self._connecting is not None:
            self._connecting.cancel()
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await asyncio.wait_for(producer.stop(), self._timeout + 2)
            except Exception:  # shutting down: a broker that is gone cannot take the last batch either
                log.warning("the gateway producer did not stop cleanly", exc_info=True)

    def close(self) -> None:
        self._drop_probe()


class BusPublisher:
    """Publishes onto an in-process bus and runs it, so the demo's HTTP calls see the services react. A bus
    given a clock (services on a simulated clock) stamps the gateway's events with it too."""

    def __init__(self, bus: InProcessBus, producer_name: str = "gateway") -> None:
        self.bus = bus
        self._name = producer_name

    async def start(self) -> None:
        return None

    async def publish(self, topic: Topic, payload: Payload, *, event_id: str | None = None) -> Envelope:
        Outgoing(topic, payload)  # the topic must carry the payload's type
        envelope = Envelope.wrap(payload, self._name, event_id=event_id,
                                 occurred_at=self.bus.clock() if self.bus.clock else None)
        self.bus.publish_raw(topic.name, encode(envelope))
        self.bus.run_until_idle()
        return envelope

    async def ready(self) -> bool:
        return True

    async def stop(self) -> None:
        return None

    def close(self) -> None:
        return None
