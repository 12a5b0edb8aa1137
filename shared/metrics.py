"""Prometheus metrics every service exposes: messages in and out, errors, dead-lettered, processing time."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest


class ServiceMetrics:
    def __init__(self, service: str, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.service = service
        labels = ["service", "topic"]
        self.messages_in = Counter("citymatch_messages_in_total", "messages consumed", labels, registry=self.registry)
        self.messages_out = Counter("citymatch_messages_out_total", "messages published", labels,
                                    registry=self.registry)
        self.errors = Counter("citymatch_errors_total", "handler errors", labels, registry=self.registry)
        self.dead_lettered = Counter("citymatch_dead_lettered_total", "messages sent to a dead-letter topic", labels,
                                     registry=self.registry)
        self.processing = Histogram("citymatch_processing_seconds", "handler time per message", labels,
                                    registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
