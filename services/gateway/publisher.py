"""How the gateway hands events to the bus: Kafka in production and tests, the in-process bus in the demo.

Which Kafka client does what: the gateway publishes with kafka-python (the producer the platform's design
names), and never waits on it with a thread per request. The producer's own I/O thread talks to the broker;
``publish`` turns the producer's future into an asyncio future and awaits it, so the event loop serves other
requests meanwhile. The Faust workers use aiokafka under Faust; provisioning, replay and the rejection feed
use kafka-python.

A publish is confirmed when the broker has the event (acks=all, idempotent producer) or refused with
:class:`BrokerUnavailable` after ``confirm_timeout_s``. The producer's delivery timeout is the same bound, so
an event that was refused is not sent later behind the client's back (unless the broker stored it and only
its answer was lost; the order id, derived from the client's Idempotency-Key, makes a retry of such an order
the same order). Why not aiokafka here, although it costs the gateway less CPU per send: it has no delivery
timeout, so an event answered 503 during an outage stays queued and is delivered once the broker is back; a
client that retries without an id would then be served twice (seen under `make up` with the broker killed).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterable, Sequence
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
    async def publish_many(self, topic: Topic, items: Sequence[tuple[Payload, str | None]]) -> list[Envelope]: ...
    async def ready(self) -> bool: ...
    async def stop(self) -> None: ...
    def close(self) -> None: ...


def _bridge_all(loop: asyncio.AbstractEventLoop, kafka_futures: Sequence[Any]) -> asyncio.Future[None]:
    """One asyncio future for many producer futures: done when all are, failed as soon as one fails. One wake-up
    of the event loop per batch instead of one per event (callbacks run on the producer's I/O thread)."""
    done: asyncio.Future[None] = loop.create_future()
    left = [len(kafka_futures)]
    lock = threading.Lock()

    def settle(exc: BaseException | None) -> None:
        if done.done():
            return
        if exc is None:
            done.set_result(None)
        else:
            done.set_exception(exc)

    def one_done(_md: Any) -> None:
        with lock:
            left[0] -= 1
            last = left[0] == 0
        if last:
            loop.call_soon_threadsafe(settle, None)

    for f in kafka_futures:
        f.add_callback(one_done)
        f.add_errback(lambda exc: loop.call_soon_threadsafe(settle, exc))
    if not kafka_futures:
        settle(None)
    return done


class KafkaPublisher:
    """Publishes with kafka-python; each call awaits the broker's acknowledgement without a worker thread.

    The producer is made in the background (kafka-python connects while it is constructed), retried until the
    broker answers; until then every publish is a prompt :class:`BrokerUnavailable` and /ready is false.
    """

    def __init__(self, bootstrap: str, producer_name: str = "gateway", confirm_timeout_s: float = 3.0,
                 topics: Iterable[Topic] = (energy.ORDERS, ledger.RETIREMENTS),
                 probe_timeout_s: float = 1.0, retry_s: float = 1.0) -> None:
        self._bootstrap = bootstrap
        self._name = producer_name
        self._timeout = confirm_timeout_s
        self._probe_timeout = probe_timeout_s
        self._retry_s = retry_s
        self._topics = tuple(t.name for t in topics)
        self._producer: Any = None
        self._probe: Any = None
        self._probe_lock = asyncio.Lock()
        self._connecting: asyncio.Task[None] | None = None

    def _make_producer(self) -> Any:
        from kafka import KafkaProducer

        timeout_ms = int(self._timeout * 1000)
        producer = KafkaProducer(
            bootstrap_servers=self._bootstrap, acks="all", enable_idempotence=True, linger_ms=0,
            request_timeout_ms=max(500, timeout_ms - 200), delivery_timeout_ms=timeout_ms, max_block_ms=timeout_ms,
            reconnect_backoff_max_ms=500, retry_backoff_ms=100, bootstrap_timeout_ms=timeout_ms,
            client_id=f"citymatch-{self._name}")
        for name in self._topics:  # learn partitions now, so no request waits for metadata later
            producer.partitions_for(name)
        return producer

    async def start(self) -> None:
        """Connect in the background; the first attempt is awaited briefly so a healthy start is ready at once."""
        self._connecting = asyncio.create_task(self._connect())
        await asyncio.wait([self._connecting], timeout=self._timeout)

    async def _connect(self) -> None:
        while self._producer is None:
            try:
                self._producer = await asyncio.to_thread(self._make_producer)
                log.info("gateway producer connected to %s", self._bootstrap)
            except Exception as exc:  # the broker is down: try again, /ready says not ready meanwhile
                log.warning("Kafka not reachable at %s (%s); retrying in %.1f s", self._bootstrap,
                            exc.__class__.__name__, self._retry_s)
                await asyncio.sleep(self._retry_s)

    def _known(self, topic: str) -> bool:
        return self._producer._metadata.partitions_for_topic(topic) is not None

    async def publish(self, topic: Topic, payload: Payload, *, event_id: str | None = None) -> Envelope:
        [envelope] = await self.publish_many(topic, [(payload, event_id)])
        return envelope

    async def publish_many(self, topic: Topic, items: Sequence[tuple[Payload, str | None]]) -> list[Envelope]:
        """Publish ``(payload, event_id)`` pairs on ``topic``: all are sent before any acknowledgement is awaited
        (they share the broker's requests), and the call returns once the broker has every one of them, or
        raises :class:`BrokerUnavailable` (some may have been stored: each event id makes a retry harmless)."""
        from kafka.errors import KafkaError

        envelopes = []
        for payload, event_id in items:
            Outgoing(topic, payload)  # the topic must carry the payload's type
            envelopes.append(Envelope.wrap(payload, self._name, event_id=event_id))
        if self._producer is None:
            raise BrokerUnavailable(f"the gateway has no connection to the broker at {self._bootstrap} yet")
        loop = asyncio.get_running_loop()
        try:
            if self._known(topic.name):
                futures = [self._producer.send(topic.name, key=e.key.encode(), value=encode(e)) for e in envelopes]
            else:  # a topic not learnt at start: send() would block while it asks for its metadata
                futures = await asyncio.wait_for(asyncio.to_thread(
                    lambda: [self._producer.send(topic.name, key=e.key.encode(), value=encode(e))
                             for e in envelopes]), self._timeout)
            await asyncio.wait_for(_bridge_all(loop, futures), self._timeout)
        except (TimeoutError, KafkaError) as exc:
            log.warning("broker did not confirm %d event(s) on %s (first %s): %r", len(envelopes), topic.name,
                        envelopes[0].event_id if envelopes else "-", exc)
            raise BrokerUnavailable(f"the broker did not confirm within {self._timeout:g} s") from None
        return envelopes

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
        """Nothing to do on the loop: ``close`` flushes and closes the producer (its own thread)."""
        return None

    def close(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
        if self._producer is not None:
            self._producer.close(timeout=5)
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

    async def publish_many(self, topic: Topic, items: Sequence[tuple[Payload, str | None]]) -> list[Envelope]:
        return [await self.publish(topic, payload, event_id=event_id) for payload, event_id in items]

    async def ready(self) -> bool:
        return True

    async def stop(self) -> None:
        return None

    def close(self) -> None:
        return None
