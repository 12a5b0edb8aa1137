"""Rebuilds a service's in-memory state from its input topic before it starts consuming.

The market keeps its order books in memory; Kafka keeps the orders. After a restart, the committed offset
is past orders that are still open, so the worker first re-reads the topic from ``now - window`` through
the same handlers and throws their outputs away (they were published before the offsets were committed).
Messages after the committed offset are then delivered again by the consumer group as usual; handlers are
idempotent, so that redelivery republishes the same events and nothing accepted is lost.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from shared.bus.dispatch import deliver
from shared.runtime import Service

log = logging.getLogger("citymatch.replay")


def replay(service: Service, bootstrap: str, topic: str, window: timedelta, timeout_s: float = 120) -> int:
    """Feed ``topic``'s messages of the last ``window`` to the service's handler; returns how many."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return 0
        consumer.assign(tps)
        since_ms = int((datetime.now(UTC) - window).timestamp() * 1000)
        starts = consumer.offsets_for_times({tp: since_ms for tp in tps})
        ends = consumer.end_offsets(tps)
        for tp in tps:
            consumer.seek(tp, starts[tp].offset if starts.get(tp) is not None else ends[tp])
        replayed, deadline = 0, time.monotonic() + timeout_s
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise TimeoutError(f"replay of {topic} did not reach the end within {timeout_s:.0f}s")
            for records in consumer.poll(timeout_ms=500).values():
                for rec in records:
                    if rec.offset < ends[TopicPartition(rec.topic, rec.partition)]:
                        deliver(service, topic, rec.value)
                        replayed += 1
        log.info("replayed %d messages of %s from the last %s", replayed, topic, window)
        return replayed
    finally:
        consumer.close()
