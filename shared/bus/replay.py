"""Rebuilds a service's in-memory state from its input topic before it consumes, and fills gaps later.

The market keeps its order books in memory; Kafka keeps the orders. After a restart, the committed offset
is past orders that are still open, so the worker first re-reads the topic from ``now - window`` through
the same handlers and throws their outputs away (they were published before the offsets were committed).
Messages after the committed offset are then delivered again by the consumer group as usual; handlers are
idempotent, so that redelivery republishes the same events and nothing accepted is lost.

The same holds when a partition moves to this worker in a rebalance (its previous owner died): the messages
between what this worker last saw of that partition and where the group's committed offset resumes were
handled only by the other worker, so :func:`replay_gap` feeds them through the handlers before the first
message delivered from the new assignment.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from shared.bus.dispatch import deliver
from shared.runtime import Service

log = logging.getLogger("citymatch.replay")


def replay(service: Service, bootstrap: str, topic: str, window: timedelta, timeout_s: float = 120) -> dict[int, int]:
    """Feed ``topic``'s messages of the last ``window`` to the service's handler.

    Returns, per partition, the offset up to which the service has now seen the topic (its end offset).
    """
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return {}
        consumer.assign(tps)
        since_ms = int((datetime.now(UTC) - window).timestamp() * 1000)
        starts = consumer.offsets_for_times({tp: since_ms for tp in tps})
        ends = consumer.end_offsets(tps)
        ranges = {tp: (starts[tp].offset if starts.get(tp) is not None else ends[tp], ends[tp]) for tp in tps}
        replayed = _feed(consumer, service, topic, ranges, timeout_s)
        log.info("replayed %d messages of %s from the last %s", replayed, topic, window)
        return {tp.partition: end for tp, end in ends.items()}
    finally:
        consumer.close()


def replay_gap(service: Service, bootstrap: str, topic: str, partition: int, start: int, end: int,
               timeout_s: float = 120) -> int:
    """Feed offsets ``[start, end)`` of one partition to the service's handler; returns how many."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        replayed = _feed(consumer, service, topic, {tp: (start, end)}, timeout_s)
        log.info("replayed %d messages of %s[%d] (offsets %d-%d) handled elsewhere before this worker took the "
                 "partition", replayed, topic, partition, start, end)
        return replayed
    finally:
        consumer.close()


def _feed(consumer, service: Service, topic: str, ranges: dict, timeout_s: float) -> int:
    """Deliver every message in each partition's [start, end) range through the service's handler."""
    from kafka import TopicPartition

    for tp, (start, _) in ranges.items():
        consumer.seek(tp, start)
    replayed, deadline = 0, time.monotonic() + timeout_s
    while any(consumer.position(tp) < end for tp, (_, end) in ranges.items()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"replay of {topic} did not reach the end within {timeout_s:.0f}s")
        for records in consumer.poll(timeout_ms=500).values():
            for rec in records:
                if rec.offset < ranges[TopicPartition(rec.topic, rec.partition)][1]:
                    deliver(service, topic, rec.value, record_key=rec.key)
                    replayed += 1
    return replayed
