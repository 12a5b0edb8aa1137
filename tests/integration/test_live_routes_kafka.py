"""The operators' live routes over real Kafka: the gateway process (its composition root, its own followers)
shows a crowd count published on crowd.counts, a charging site's chargers with their power, and the dead letter
the market worker makes of a message it cannot decode, with the reason, service and source offset from the
record's headers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from kafka import KafkaProducer

from shared.contracts.base import Envelope
from shared.contracts.codec import encode
from shared.contracts.crowd import COUNTS, CrowdCountObserved
from shared.contracts.energy import ORDERS, EnergyOrderPlaced

from .conftest import fresh_slot, wait_until

pytestmark = pytest.mark.integration


def test_live_route_reflects_a_count_and_a_dead_letter_on_the_broker(stack):
    headers = {"Authorization": f"Bearer {stack.operator_token}"}
    marker = f"it-{uuid.uuid4().hex[:10]}"
    minute = datetime.now(UTC).replace(second=0, microsecond=0)
    count = CrowdCountObserved(zone=marker, minute_start=minute, persons=321, density_p_m2=1.4, los="D",
                               source="integration")
    order = EnergyOrderPlaced(order_id=f"o-{marker}", participant="home-1", side="buy", slot=fresh_slot(),
                              kwh=Decimal("1"), limit_price=Decimal("20"))
    # An order whose envelope names another key than its payload's: no consumer may read it as that order.
    wrong_key = Envelope.wrap(order, "integration").model_copy(update={"key": marker})
    producer = KafkaProducer(bootstrap_servers=stack.kafka, acks="all")
    producer.send(COUNTS.name, key=marker.encode(), value=encode(Envelope.wrap(count, "integration"))).get(10)
    producer.send(ORDERS.name, key=order.key().encode(), value=encode(wrong_key)).get(10)
    producer.close()

    def counted():
        live = httpx.get(f"{stack.gateway}/v1/operator/live", headers=headers, timeout=5).json()
        zone = next((c for c in live["chokepoints"] if c["zone"] == marker), None)
        return (zone, live) if zone else None

    zone, live = wait_until(counted, 30, "the count on /v1/operator/live")
    assert (zone["los"], zone["persons"], zone["stale"]) == ("D", 321, False)
    assert zone["minute_start"] == minute.isoformat().replace("+00:00", "Z")
    chargers = {c["charger"]: c for c in live["chargers"]}
    assert chargers["ebina-station-ev/cp-01"]["capacity_kw"] == 20.0  # handed over by the composition root
    assert chargers["lalaport-ebina/cp-01"]["lat"] is not None

    def dead_letter():
        body = httpx.get(f"{stack.gateway}/v1/operator/dead-letters", headers=headers, timeout=5).json()
        orders = next((t for t in body["topics"] if t["topic"] == ORDERS.name), None)
        return orders and next((d for d in orders["latest"] if marker in d["reason"]), None)

    letter = wait_until(dead_letter, 60, "the market's dead letter on /v1/operator/dead-letters")
    assert letter["reason"].startswith(f"undecodable message on {ORDERS.name}")
    assert (letter["kind"], letter["service"]) == ("decode", "market") and letter["offset"] is not None
    assert letter["at"] is not None
