"""A read model of order rejections, so an app user sees why the market refused an order.

The market decides asynchronously (duplicates, gate closure, unknown participants, limits) and publishes
OrderRejected on ``energy.rejections``; this feed follows that topic from its beginning and keeps the latest
rejections per participant in memory (rebuilt from the topic on restart).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict, deque
from typing import Any, Protocol

from shared.bus.inprocess import InProcessBus
from shared.contracts import energy
from shared.contracts.codec import decode
from shared.contracts.energy import OrderRejected
from shared.errors import EventDecodeError

log = logging.getLogger("citymatch.gateway.rejections")
KEEP = 200


class RejectionReader(Protocol):
    def rejections_for(self, participant: str) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...


def _public(r: OrderRejected) -> dict[str, Any]:
    return {"order_id": r.order_id, "slot": r.slot.isoformat() if r.slot else None, "reason": r.reason}


class KafkaRejectionFeed:
    """Follows ``energy.rejections`` on a daemon thread (no consumer group: every gateway reads it all).

    After a broker outage it is back within about a second of the broker: reconnect backoff is capped at
    half a second, and a consumer that fails is replaced, resuming after the last record it kept.
    """

    def __init__(self, bootstrap: str, retry_s: float = 0.5) -> None:
        self._bootstrap = bootstrap
        self._retry_s = retry_s
        self._by_participant: dict[str, deque[dict[str, Any]]] = defaultdict(lambda: deque(maxlen=KEEP))
        self._next: dict[int, int] = {}  # partition -> next offset to read
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rejection-feed", daemon=True)

    def start(self) -> KafkaRejectionFeed:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()
            except Exception as exc:  # the feed is a convenience for users; it must never take the gateway down
                log.warning("rejection feed lost the broker (%s); reconnecting", exc.__class__.__name__)
                self._stop.wait(self._retry_s)

    def _follow(self) -> None:
        from kafka import KafkaConsumer, TopicPartition

        consumer = KafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False,
                                 auto_offset_reset="earliest", reconnect_backoff_max_ms=500, retry_backoff_ms=100,
                                 fetch_max_wait_ms=200, request_timeout_ms=5000, bootstrap_timeout_ms=2000)
        try:
            partitions = consumer.partitions_for_topic(energy.REJECTIONS.name) or {0}
            assigned = [TopicPartition(energy.REJECTIONS.name, p) for p in sorted(partitions)]
            consumer.assign(assigned)
            for tp in assigned:
                if tp.partition in self._next:
                    consumer.seek(tp, self._next[tp.partition])
            while not self._stop.is_set():
                for tp, records in consumer.poll(timeout_ms=200).items():
                    for rec in records:
                        self._add(rec.value)
                        self._next[tp.partition] = rec.offset + 1
        finally:
            consumer.close()

    def _add(self, raw: bytes) -> None:
        try:
            _, payload = decode(raw, energy.REJECTIONS)
        except EventDecodeError:
            return
        if isinstance(payload, OrderRejected):
            with self._lock:
                self._by_participant[payload.participant].append(_public(payload))

    def rejections_for(self, participant: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._by_participant.get(participant, ()))

    def close(self) -> None:
        """Stop following the topic and wait (briefly) for the thread to close its consumer."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)


class BusRejections:
    """The same read model over the in-process bus (demo, simulator)."""

    def __init__(self, bus: InProcessBus) -> None:
        self.bus = bus

    def rejections_for(self, participant: str) -> list[dict[str, Any]]:
        return [_public(r) for r in self.bus.events(energy.REJECTIONS)
                if isinstance(r, OrderRejected) and r.participant == participant][-KEEP:]

    def close(self) -> None:
        return None
