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
from shared.errors import EventDecodeError
from shared.events import OrderRejected
from shared.serialization import decode

log = logging.getLogger("citymatch.gateway.rejections")
KEEP = 200


class RejectionReader(Protocol):
    def rejections_for(self, participant: str) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...


def _public(r: OrderRejected) -> dict[str, Any]:
    return {"order_id": r.order_id, "slot": r.slot.isoformat() if r.slot else None, "reason": r.reason}


class KafkaRejectionFeed:
    """Follows ``energy.rejections`` on a daemon thread (no consumer group: every gateway reads it all)."""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self._by_participant: dict[str, deque[dict[str, Any]]] = defaultdict(lambda: deque(maxlen=KEEP))
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rejection-feed", daemon=True)

    def start(self) -> KafkaRejectionFeed:
        self._thread.start()
        return self

    def _run(self) -> None:
        from kafka import KafkaConsumer, TopicPartition

        consumer = KafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False,
                                 auto_offset_reset="earliest")
        try:
            partitions = consumer.partitions_for_topic("energy.rejections") or {0}
            consumer.assign([TopicPartition("energy.rejections", p) for p in partitions])
            while not self._stop.is_set():
                for records in consumer.poll(timeout_ms=500).values():
                    for rec in records:
                        self._add(rec.value)
        except Exception:  # the feed is a convenience for users; it must never take the gateway down
            log.exception("rejection feed stopped")
        finally:
            consumer.close()

    def _add(self, raw: bytes) -> None:
        try:
            _, payload = decode(raw)
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
        return [_public(r) for r in self.bus.events("energy.rejections")
                if isinstance(r, OrderRejected) and r.participant == participant][-KEEP:]

    def close(self) -> None:
        return None
