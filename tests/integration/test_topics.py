"""The catalogue's topics exist on the real broker with the catalogue's partitions and cleanup policy."""

import pytest
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from shared.bus.provision import ensure_topics
from shared.contracts.catalogue import CATALOGUE, all_topic_names
from shared.contracts.energy import ORDERS
from shared.contracts.ledger import ANCHORS, RECEIPTS

pytestmark = pytest.mark.integration


def test_provisioning_creates_every_topic_with_its_policy(kafka_bootstrap):
    """After ensure_topics every catalogue topic and DLQ exists; compacted topics are compacted; it is idempotent."""
    ensure_topics(kafka_bootstrap)
    assert ensure_topics(kafka_bootstrap) == []
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        assert set(all_topic_names()) <= set(admin.list_topics())
        probe = [ANCHORS.name, ORDERS.name, RECEIPTS.name]
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in probe])["topic"]
        for name in probe:
            spec = CATALOGUE[name]
            got = configs[name]
            assert got["cleanup.policy"]["value"] == ("compact" if spec.compacted else "delete"), name
            if not spec.compacted:
                want = spec.retention_ms if spec.retention_ms is not None else -1
                assert int(got["retention.ms"]["value"]) == want, name
    finally:
        admin.close()
