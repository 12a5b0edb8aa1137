"""A read model of the city's eye for the operators' dashboard: the latest anomalies on ``city.anomalies``
(crowd counts far from their usual level, shops' buying surges, stock-outs, waste, demand moving home), newest
first, each with its evidence."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, Protocol

from services.gateway.bus_feed import BusCatchUp
from services.gateway.topic_feed import KafkaTopicFeed
from shared.bus.inprocess import InProcessBus
from shared.contracts.base import Payload
from shared.contracts.crowd import ANOMALIES, CrowdAnomalyDetected
from shared.contracts.logistics import StockAnomalyDetected

KEEP = 200


class AnomalyReader(Protocol):
    def latest(self, limit: int) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...


def _public(payload: Payload) -> dict[str, Any] | None:
    if isinstance(payload, CrowdAnomalyDetected):
        return {"source": "crowd", "kind": payload.kind, "place": payload.zone,
                "at": payload.minute_start.isoformat(), "observed": float(payload.observed),
                "expected": payload.expected, "robust_z": payload.robust_z,
                "evidence": f"{payload.observed} walkers in a minute against {payload.expected:.1f} usually "
                            f"(robust z {payload.robust_z:.1f})"}
    if isinstance(payload, StockAnomalyDetected):
        place = payload.shop if payload.item == "*" else f"{payload.shop} · {payload.item}"
        return {"source": "shops", "kind": payload.kind, "place": place, "at": payload.day.isoformat(),
                "observed": payload.observed, "expected": payload.expected, "robust_z": payload.robust_z,
                "evidence": payload.evidence}
    return None


class AnomalyBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: deque[dict[str, Any]] = deque(maxlen=KEEP)

    def apply(self, payload: Payload) -> None:
        row = _public(payload)
        if row is not None:
            with self._lock:
                if row not in self._rows:  # a redelivered alert is the same alert
                    self._rows.append(row)

    def latest(self, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            return list(reversed(self._rows))[:limit]

    def close(self) -> None:
        return None


class KafkaAnomalyFeed(KafkaTopicFeed):
    def __init__(self, bootstrap: str, retry_s: float = 0.5) -> None:
        super().__init__(bootstrap, (ANOMALIES,), "anomaly-feed", retry_s)
        self.book = AnomalyBook()

    def fold(self, payload: Any) -> None:
        self.book.apply(payload)

    def latest(self, limit: int) -> list[dict[str, Any]]:
        return self.book.latest(limit)


class BusAnomalies(AnomalyBook):
    def __init__(self, bus: InProcessBus) -> None:
        super().__init__()
        self._catch_up = BusCatchUp(bus, (ANOMALIES,), self.apply)

    def latest(self, limit: int) -> list[dict[str, Any]]:
        self._catch_up()
        return super().latest(limit)
