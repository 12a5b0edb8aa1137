"""Following topics into a gateway read model: a daemon thread, no consumer group, resumes after outages.

Every gateway reads the whole of each topic (no consumer group, nothing committed), from its beginning, and
folds each decoded payload into the read model under a lock. After a broker outage it is back within about a
second of the broker: reconnect backoff is capped at half a second, and a consumer that fails is replaced,
resuming after the last record it folded. Undecodable messages are skipped (their producers' dead letters).
``caught_up`` is set once a read finds nothing more: from then on the model has seen every record there was.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any, Self

from shared.contracts.base import Envelope
from shared.contracts.codec import decode
from shared.errors import EventDecodeError

log = logging.getLogger("citymatch.gateway.feeds")


class KafkaTopicFeed:
    """Subclasses implement :meth:`fold` (called with the lock held) and read their model under ``_lock``."""

    def __init__(self, bootstrap: str, topics: Sequence[Any], name: str, retry_s: float = 0.5) -> None:
        self._bootstrap = bootstrap
        self._topics = {t.name: t for t in topics}
        self._retry_s = retry_s
        self._next: dict[tuple[str, int], int] = {}  # (topic, partition) -> next offset to read
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.caught_up = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def fold(self, payload: Any) -> None:
        raise NotImplementedError

    def fold_event(self, envelope: Envelope, payload: Any) -> None:
        """What a record folds into (with the lock held); read models that need the envelope's time or id
        override this instead of :meth:`fold`."""
        self.fold(payload)

    def take(self, record: Any, topic: str) -> None:
        """One record as the consumer returned it; feeds of raw records (dead letters, with their headers)
        override this, the others decode its value."""
        self._add(record.value, topic)

    def start(self) -> Self:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()
            except Exception as exc:  # a read model is a convenience: it must never take the gateway down
                log.warning("%s lost the broker (%s); reconnecting", self._thread.name, exc.__class__.__name__)
                self._stop.wait(self._retry_s)

    def _follow(self) -> None:
        from kafka import KafkaConsumer, TopicPartition

        consumer = KafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False,
                                 auto_offset_reset="earliest", reconnect_backoff_max_ms=500, retry_backoff_ms=100,
                                 fetch_max_wait_ms=200, request_timeout_ms=5000, bootstrap_timeout_ms=2000)
        try:
            assigned = [TopicPartition(name, p) for name in self._topics
                        for p in sorted(consumer.partitions_for_topic(name) or {0})]
            consumer.assign(assigned)
            for tp in assigned:
                if (tp.topic, tp.partition) in self._next:
                    consumer.seek(tp, self._next[(tp.topic, tp.partition)])
            while not self._stop.is_set():
                batch = consumer.poll(timeout_ms=200)
                if not batch:
                    self.caught_up.set()
                for tp, records in batch.items():
                    for rec in records:
                        self.take(rec, tp.topic)
                        self._next[(tp.topic, tp.partition)] = rec.offset + 1
        finally:
            consumer.close()

    def _add(self, raw: bytes, topic: str) -> None:
        try:
            envelope, payload = decode(raw, self._topics[topic])
        except EventDecodeError:
            return
        with self._lock:
            self.fold_event(envelope, payload)

    def close(self) -> None:
        """Stop following and wait (briefly) for the thread to close its consumer."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
