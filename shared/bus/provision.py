"""Creates the catalogue's topics (and their dead-letter topics) with the partitions, retention and compaction
the catalogue names, before any service starts; a broker's auto-creation would use its defaults instead."""

from __future__ import annotations

import logging

from shared.contracts.base import AnyTopic
from shared.contracts.catalogue import CATALOGUE

log = logging.getLogger("citymatch.provision")


def topic_configs(t: AnyTopic) -> dict[str, str]:
    configs = {"cleanup.policy": "compact" if t.compacted else "delete"}
    if not t.compacted:
        configs["retention.ms"] = str(t.retention_ms if t.retention_ms is not None else -1)
    return configs


def ensure_topics(bootstrap: str, replication: int = 1) -> list[str]:
    """Create every missing catalogue topic and its ``.dlq``; returns the names created."""
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="citymatch-provision")
    try:
        existing = set(admin.list_topics())
        wanted = []
        for t in CATALOGUE.values():
            wanted.append(NewTopic(t.name, t.partitions, replication, topic_configs=topic_configs(t)))
            wanted.append(NewTopic(t.dlq, t.partitions, replication, topic_configs={"retention.ms": "-1"}))
        missing = [n for n in wanted if n.name not in existing]
        if missing:
            admin.create_topics(missing)
        log.info("created %d topics", len(missing))
        return [n.name for n in missing]
    finally:
        admin.close()
