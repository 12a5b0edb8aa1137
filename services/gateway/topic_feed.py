"""Following topics into a gateway read model: a daemon thread, no consumer group, resumes after outages.

Every gateway reads the whole of each topic (no consumer group, nothing committed), from its beginning, and
folds each decoded payload into the read model under a lock. After a broker outage it is back within about a
second of the broker: reconnect backoff is capped at half a second, and a consumer that fails is replaced,
resuming after the last record it folded. Undecodable messages are skipped (their producers' dead letters).
``caught_up`` is set once a read finds nothing more: from then on the model has seen every record there was.

The gateway's read models share one :class:`FeedHub`: one consumer and one thread for all their topics, instead
of one each. An idle consumer still fetches every 200 ms, so eight of them cost the gateway about 8 % of a core
doing nothing (measured with the stack idle); one costs a fraction of that, and the records of a topic two models
follow are fetched and decoded once.
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
        self._name = name
        self._retry_s = retry_s
        self._lock = threading.Lock()
        self.caught_up = threading.Event()
        self._hub: FeedHub | None = None

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
        """Follow this feed's topics on a hub of its own (the gateway's bootstrap puts all feeds on one)."""
        FeedHub(self._bootstrap, [self], self._name, self._retry_s).start()
        return self

    def _add(self, raw: bytes, topic: str) -> None:
        decoded = _decoded(raw, self._topics[topic])
        if decoded is not None:
            self._fold_decoded(*decoded)

    def _fold_decoded(self, envelope: Envelope, payload: Any) -> None:
        with self._lock:
            self.fold_event(envelope, payload)

    def _decodes(self) -> bool:
        """Whether this feed folds decoded records (then the hub decodes each record once for all such feeds)."""
        return type(self).take is KafkaTopicFeed.take

    def close(self) -> None:
        """Stop following (the whole hub: the gateway closes all its feeds together at shutdown)."""
        if self._hub is not None:
            self._hub.close()


def _decoded(raw: bytes, topic: Any) -> tuple[Envelope, Any] | None:
    try:
        return decode(raw, topic)
    except EventDecodeError:
        return None   # its producer's dead letter


class FeedHub:
    """One consumer on one daemon thread that reads the topics of several feeds and hands each record to every
    feed that follows its topic. Nothing is committed: after an outage a new consumer resumes after the last
    record handed on."""

    def __init__(self, bootstrap: str, feeds: Sequence[KafkaTopicFeed], name: str = "gateway-feeds",
                 retry_s: float = 0.5) -> None:
        self._bootstrap = bootstrap
        self._feeds = tuple(feeds)
        self._routes: dict[str, list[KafkaTopicFeed]] = {}
        for feed in self._feeds:
            feed._hub = self
            for topic in feed._topics:
                self._routes.setdefault(topic, []).append(feed)
        self._retry_s = retry_s
        self._next: dict[tuple[str, int], int] = {}  # (topic, partition) -> next offset to read
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

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
            assigned = [TopicPartition(name, p) for name in self._routes
                        for p in sorted(consumer.partitions_for_topic(name) or {0})]
            consumer.assign(assigned)
            for tp in assigned:
                if (tp.topic, tp.partition) in self._next:
                    consumer.seek(tp, self._next[(tp.topic, tp.partition)])
            while not self._stop.is_set():
                batch = consumer.poll(timeout_ms=200)
                if not batch:
                    for feed in self._feeds:
                        feed.caught_up.set()
                for tp, records in batch.items():
                    for rec in records:
                        self._hand_on(rec, tp.topic)
                        self._next[(tp.topic, tp.partition)] = rec.offset + 1
        finally:
            consumer.close()

    def _hand_on(self, record: Any, topic: str) -> None:
        """The record to every feed of its topic, decoded once for all the feeds that fold decoded records."""
        decoded: tuple[Envelope, Any] | None = None
        tried = False
        for feed in self._routes.get(topic, ()):
            try:
                if not feed._decodes():
                    feed.take(record, topic)
                    continue
                if not tried:
                    decoded, tried = _decoded(record.value, feed._topics[topic]), True
                if decoded is not None:
                    feed._fold_decoded(*decoded)
            except Exception:  # one read model's bug must not stall the others (or retry the record forever)
                log.exception("%s could not fold a record of %s at offset %s", feed._name, topic,
                              getattr(record, "offset", "?"))

    def close(self) -> None:
        """Stop following and wait (briefly) for the thread to close its consumer."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
