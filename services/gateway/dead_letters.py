"""A read model of the dead letters for the operators' dashboard: per source topic, how many messages the
services could not process, and the latest few with their reason and time.

How dead letters are published: a service that cannot decode a message, or whose domain refuses it, sends the
original bytes to ``<topic>.dlq`` (every catalogue topic has one, provisioned with it) with headers
``x-dlq-reason``, ``x-dlq-error-type`` (decode, domain, routing, handler), ``x-dlq-source-topic``,
``-partition``, ``-offset`` and ``x-dlq-service`` (``shared.bus.dispatch.dead_letter_headers``, the Faust
workers, the charger gateway). On Kafka the time is the record's timestamp. The in-process bus keeps its dead
letters in ``bus.dead_letters`` with the reason only; there the time is when this model first saw them.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from services.gateway.topic_feed import KafkaTopicFeed
from shared.bus.inprocess import InProcessBus
from shared.contracts.catalogue import CATALOGUE

LATEST = 5  # dead letters kept per topic, newest first
REASON_CHARS = 500


class DeadLetterReader(Protocol):
    def by_topic(self) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...


@dataclass
class _Topic:
    count: int
    latest: deque[dict[str, Any]]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class DeadLetterBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._topics: dict[str, _Topic] = {}

    def add(self, source: str, reason: str, at: datetime | None, *, kind: str | None = None,
            service: str | None = None, partition: int | None = None, offset: int | None = None) -> None:
        letter = {"reason": reason[:REASON_CHARS] or "(no reason given)", "kind": kind, "service": service,
                  "at": None if at is None else _iso(at), "partition": partition, "offset": offset}
        with self._lock:
            held = self._topics.setdefault(source, _Topic(0, deque(maxlen=LATEST)))
            held.count += 1
            held.latest.appendleft(letter)

    def by_topic(self) -> list[dict[str, Any]]:
        """Each source topic with dead letters: most dead letters first."""
        with self._lock:
            rows = [{"topic": topic, "dlq": f"{topic}.dlq", "count": held.count, "latest": list(held.latest)}
                    for topic, held in self._topics.items()]
        return sorted(rows, key=lambda r: (-r["count"], r["topic"]))

    def close(self) -> None:
        return None


@dataclass(frozen=True)
class _Named:
    name: str


def _header(headers: Any, key: str) -> str | None:
    for k, v in headers or ():
        if k == key and v is not None:
            return bytes(v).decode("utf-8", "replace")
    return None


def _int(text: str | None) -> int | None:
    try:
        return None if text is None else int(text)
    except ValueError:
        return None


class KafkaDeadLetterFeed(KafkaTopicFeed):
    """Follows every ``<topic>.dlq`` of the catalogue and reads the reason from each record's headers."""

    def __init__(self, bootstrap: str, retry_s: float = 0.5) -> None:
        super().__init__(bootstrap, [_Named(t.dlq) for t in CATALOGUE.values()], "dead-letter-feed", retry_s)
        self.book = DeadLetterBook()

    def take(self, record: Any, topic: str) -> None:
        headers = getattr(record, "headers", None)
        source = _header(headers, "x-dlq-source-topic") or topic.removesuffix(".dlq")
        stamp = getattr(record, "timestamp", None)
        at = datetime.fromtimestamp(stamp / 1000, UTC) if isinstance(stamp, int) and stamp >= 0 else None
        self.book.add(source, _header(headers, "x-dlq-reason") or "", at,
                      kind=_header(headers, "x-dlq-error-type"), service=_header(headers, "x-dlq-service"),
                      partition=_int(_header(headers, "x-dlq-source-partition")),
                      offset=_int(_header(headers, "x-dlq-source-offset")))

    def by_topic(self) -> list[dict[str, Any]]:
        return self.book.by_topic()


class BusDeadLetters(DeadLetterBook):
    """The dead letters of the in-process bus (demo, browser tests), caught up when read."""

    def __init__(self, bus: InProcessBus, *, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__()
        self._bus = bus
        self._clock = clock or bus.clock or (lambda: datetime.now(UTC))
        self._seen: dict[str, int] = {}

    def by_topic(self) -> list[dict[str, Any]]:
        for topic, letters in list(self._bus.dead_letters.items()):
            seen = self._seen.get(topic, 0)
            if len(letters) > seen:
                now = self._clock()
                for letter in letters[seen:]:
                    self.add(letter.source_topic, letter.reason, now)
                self._seen[topic] = len(letters)
        return super().by_topic()
