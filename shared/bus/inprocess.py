"""An in-process message bus with the same topics, schemas and dead-letter rules as Kafka.

It serves the embedded demo and the simulator, where starting a broker would only add cost. Every published
event is serialised to bytes and decoded again on delivery, so the contracts are exercised exactly as on Kafka.
"""

from __future__ import annotations

import logging
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from shared.bus.dispatch import deliver, wrap_outputs
from shared.contracts.base import Envelope, Payload, Topic
from shared.contracts.catalogue import topic as catalogue_topic
from shared.contracts.codec import decode, encode
from shared.metrics import ServiceMetrics
from shared.runtime import Outgoing, Service

log = logging.getLogger("citymatch.inprocess")


@dataclass(frozen=True)
class DeadLetter:
    source_topic: str
    raw: bytes | None
    reason: str


class InProcessBus:
    """Runs services synchronously: publish, then :meth:`run_until_idle` delivers in FIFO order."""

    def __init__(self, services: Iterable[Service] = (), clock: Callable[[], datetime] | None = None) -> None:
        """``clock``: the time the bus stamps on what it publishes (``occurred_at``), for services that run on
        a simulated clock; by default the wall clock, as a broker's producers do."""
        self.clock = clock
        self.services: list[Service] = []
        self.log: dict[str, list[bytes]] = defaultdict(list)
        # records dropped from the front of each topic's log by :meth:`forget`: a reader's position in a topic
        # is ``forgotten[topic] + index in log``, so it survives a trim
        self.forgotten: dict[str, int] = defaultdict(int)
        self.dead_letters: dict[str, list[DeadLetter]] = defaultdict(list)
        self.metrics: dict[str, ServiceMetrics] = {}
        self._queue: deque[tuple[str, bytes | None]] = deque()
        for service in services:
            self.add(service)

    def add(self, service: Service) -> None:
        service.check()  # fail fast on tables that do not fit the catalogue
        self.services.append(service)
        self.metrics[service.name] = ServiceMetrics(service.name)
        if service.on_start:
            service.on_start()

    def publish(self, topic: Topic, payload: Payload, producer: str = "client",
                occurred_at: datetime | None = None) -> Envelope:
        """Publish ``payload``; ``occurred_at`` lets a simulation stamp events with its own clock."""
        Outgoing(topic, payload)  # the topic must carry the payload's type
        envelope = Envelope.wrap(payload, producer, occurred_at=occurred_at or (self.clock() if self.clock else None))
        self.publish_raw(topic.name, encode(envelope))
        return envelope

    def publish_raw(self, topic: str, raw: bytes | None) -> None:
        """Put bytes on ``topic`` as they are (tests use it to send what a broken producer would)."""
        catalogue_topic(topic)
        self.log[topic].append(raw if raw is not None else b"")
        self._queue.append((topic, raw))

    def run_until_idle(self, max_messages: int = 10_000_000) -> int:
        """Deliver queued messages (and what they cause) until none is left; returns how many were delivered."""
        delivered = 0
        while self._queue:
            if delivered >= max_messages:
                raise RuntimeError(f"bus still busy after {max_messages} messages: a handler loop?")
            topic, raw = self._queue.popleft()
            for service in self.services:
                if service.consumes(topic) is None:
                    continue
                result = deliver(service, topic, raw, self.metrics[service.name])
                if result.dead_letter_reason is not None:
                    self.dead_letters[topic].append(DeadLetter(topic, raw, result.dead_letter_reason))
                    self.log[f"{topic}.dlq"].append(raw or b"")
                for out_topic, envelope in result.outputs:
                    self.publish_raw(out_topic, encode(self._stamped(envelope)))
            delivered += 1
        return delivered

    def tick(self) -> None:
        """Fire every service timer once (the demo and the simulator drive time themselves)."""
        for service in self.services:
            for timer in service.timers:
                outputs: list[Outgoing] = list(timer.tick())
                for out_topic, envelope in wrap_outputs(service.name, outputs, f"timer/{service.name}"):
                    self.publish_raw(out_topic, encode(self._stamped(envelope)))

    def _stamped(self, envelope: Envelope) -> Envelope:
        return envelope if self.clock is None else envelope.model_copy(update={"occurred_at": self.clock()})

    def forget(self, topic: str) -> None:
        """Drop ``topic``'s log so far (a long in-process run keeps no more than it needs); readers that count
        their position through :attr:`forgotten` go on from where they were."""
        held = self.log[topic]
        count = len(held)
        del held[:count]  # the log first: a reader in between sees nothing new, never a record twice
        self.forgotten[topic] += count

    def events(self, topic: Topic) -> list[Payload]:
        """Every payload published on ``topic`` so far (what a consumer from the beginning reads)."""
        return [decode(raw, topic)[1] for raw in self.log.get(topic.name, [])]

    def stop(self) -> None:
        for service in self.services:
            if service.on_stop:
                service.on_stop()
