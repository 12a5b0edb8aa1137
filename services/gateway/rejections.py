"""A read model of order rejections, so an app user sees why the market refused an order.

The market decides asynchronously (duplicates, gate closure, unknown participants, limits) and publishes
OrderRejected on ``energy.rejections``; this feed follows that topic from its beginning and keeps the latest
rejections per participant in memory (rebuilt from the topic on restart).
"""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Any, Protocol

from services.gateway.topic_feed import KafkaTopicFeed
from shared.bus.inprocess import InProcessBus
from shared.contracts import energy
from shared.contracts.energy import OrderRejected

KEEP = 200


class RejectionReader(Protocol):
    def rejections_for(self, participant: str) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...


def _public(r: OrderRejected) -> dict[str, Any]:
    return {"order_id": r.order_id, "slot": r.slot.isoformat() if r.slot else None, "reason": r.reason}


class KafkaRejectionFeed(KafkaTopicFeed):
    """Follows ``energy.rejections`` (``topic_feed``: no consumer group, back within a second of the broker)."""

    def __init__(self, bootstrap: str, retry_s: float = 0.5) -> None:
        super().__init__(bootstrap, (energy.REJECTIONS,), "rejection-feed", retry_s)
        self._by_participant: dict[str, deque[dict[str, Any]]] = defaultdict(lambda: deque(maxlen=KEEP))

    def fold(self, payload: Any) -> None:
        if isinstance(payload, OrderRejected):
            self._by_participant[payload.participant].append(_public(payload))

    def rejections_for(self, participant: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._by_participant.get(participant, ()))


class BusRejections:
    """The same read model over the in-process bus (demo, simulator)."""

    def __init__(self, bus: InProcessBus) -> None:
        self.bus = bus

    def rejections_for(self, participant: str) -> list[dict[str, Any]]:
        return [_public(r) for r in self.bus.events(energy.REJECTIONS)
                if isinstance(r, OrderRejected) and r.participant == participant][-KEEP:]

    def close(self) -> None:
        return None
