"""Follows catalogue topics from their beginning on a daemon thread, handing each payload to a read model.

The gateway's read models of what other services decided (order rejections, offers and their fate) are kept
in memory and rebuilt from Kafka at start: no consumer group (every gateway reads it all, nothing to commit).
After a broker outage a feed is back within about a second of the broker: reconnect backoff is capped at half
a second, and a consumer that fails is replaced, resuming after the last record it kept. A record that does
not decode is skipped here (the owning service dead-letters it on its own input).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from shared.contracts.base import AnyTopic, Payload
from shared.contracts.codec import decode
from shared.errors import EventDecodeError

log = logging.getLogger("citymatch.gateway.feed")

Apply = Callable[[AnyTopic, Payload], None]


class KafkaTopicFeed:
    """``apply(topic, payload)`` is called on the feed's thread, in each partition's order."""

    def __init__(self, bootstrap: str, topics: Sequence[AnyTopic], apply: Apply, name: str,
                 retry_s: float = 0.5) -> None:
        self._bootstrap = bootstrap
        self._topics = {t.name: t for t in topics}
        self._apply = apply
        self._retry_s = retry_s
        self._next: dict[tuple[str, int], int] = {}  # (topic, partition) -> next offset to read
        self._stop = threading.Event()
        self._name = name
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> KafkaTopicFeed:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()
            except Exception as exc:  # a feed is a convenience for users; it must never take the gateway down
                log.warning("%s lost the broker (%s); reconnecting", self._name, exc.__class__.__name__)
                self._stop.wait(self._retry_s)

    def _follow(self) -> None:
        from kafka import KafkaConsumer, TopicPartition

        consumer = KafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False,
                                 auto_offset_reset="earliest", reconnect_backoff_max_ms=500, retry_backoff_ms=100,
                                 fetch_max_wait_ms=200, request_timeout_ms=5000, bootstrap_timeout_ms=2000)
        try:
            assigned = [TopicPartition(name, p) for name in sorted(self._topics)
                        for p in sorted(consumer.partitions_for_topic(name) or {0})]
            consumer.assign(assigned)
            for tp in assigned:
                if (tp.topic, tp.partition) in self._next:
                    consumer.seek(tp, self._next[(tp.topic, tp.partition)])
            while not self._stop.is_set():
                for tp, records in consumer.poll(timeout_ms=200).items():
                    for rec in records:
                        self._add(self._topics[tp.topic], rec.value)
                        self._next[(tp.topic, tp.partition)] = rec.offset + 1
        finally:
            consumer.close()

    def _add(self, topic: AnyTopic, raw: bytes) -> None:
        try:
            _, payload = decode(raw, topic)
        except EventDecodeError:
            return
        self._apply(topic, payload)

    def close(self) -> None:
        """Stop following and wait (briefly) for the thread to close its consumer."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
