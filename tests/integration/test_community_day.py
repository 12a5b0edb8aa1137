"""A day of the Higashi-Fuji pilot community over real Kafka: every slot clears, every trade is on the
PostgreSQL ledger, and every contract of a storage owner is followed by a dispatch set-point."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from kafka import KafkaProducer

from services.market.adapters.community_yaml import load_community
from services.settlement.views import open_reader
from shared.contracts.base import Envelope
from shared.contracts.codec import decode, encode
from shared.contracts.energy import (
    CLEARINGS,
    DISPATCH,
    ORDERS,
    TRADES,
    DispatchSetpoint,
    GateClosed,
    SlotCleared,
    TradeMatched,
)
from shared.errors import EventDecodeError

from .conftest import fresh_day, wait_until
from .test_energy_pipeline import read_records

pytestmark = pytest.mark.integration


def read_since(bootstrap: str, topic: str, since_ms: int) -> list:
    """Decodable payloads published on ``topic`` at or after ``since_ms`` (this run's, not earlier runs')."""
    out = []
    for record in read_records(bootstrap, topic):
        if record.timestamp >= since_ms:
            try:
                out.append(decode(record.value)[1])
            except EventDecodeError:
                continue
    return out


def test_a_community_day_clears_slot_by_slot_into_ledger_and_dispatch(stack):
    """48 slots of agent orders clear one by one; trades settle on the ledger; storage owners get set-points."""
    community = load_community("higashi_fuji")
    first = fresh_day()
    slots = [first + timedelta(minutes=30 * i) for i in range(48)]
    tag = uuid.uuid4().hex[:8]  # this run's orders and trades, apart from any earlier run on the same broker
    orders = [o.model_copy(update={"order_id": f"{tag}-{o.order_id}"})
              for o in community.orders(slots, placed_at=datetime.now(UTC), weather_factor=0.9)]
    assert len(orders) > 48
    since_ms = int(time.time() * 1000)

    producer = KafkaProducer(bootstrap_servers=stack.kafka, acks="all", linger_ms=5)
    by_slot = defaultdict(list)
    for order in orders:
        by_slot[order.slot].append(order)
    for slot in slots:  # slot by slot: a slot's orders, then its gate closure, on the slot's partition
        for order in by_slot[slot]:
            producer.send(ORDERS.name, key=order.key().encode(), value=encode(Envelope.wrap(order, "agents")))
        gate = GateClosed(slot=slot)
        producer.send(ORDERS.name, key=gate.key().encode(), value=encode(Envelope.wrap(gate, "clock")))
    producer.flush()
    producer.close()

    wanted = set(slots)

    def cleared():
        done = {c.slot for c in read_since(stack.kafka, CLEARINGS.name, since_ms) if isinstance(c, SlotCleared)}
        return wanted <= done

    wait_until(cleared, 120, "all 48 slots to clear")
    trades = [t for t in read_since(stack.kafka, TRADES.name, since_ms) if isinstance(t, TradeMatched)
              and t.slot in wanted and f"{t.sell_order_id}{t.buy_order_id}".find(tag) >= 0]
    assert trades, "a sunny day of the pilot community should trade"
    assert sum(t.kwh for t in trades if t.seller != "grid" and t.buyer != "grid") > 0

    reader = open_reader(stack.database_url)
    try:
        def all_settled():
            on_ledger = {row["trade_id"] for who in {t.buyer for t in trades}
                         for row in reader.participant(who).trades()}
            return {t.trade_id for t in trades} <= on_ledger

        wait_until(all_settled, 120, "every trade on the ledger")
        assert reader.operator().reconcile().ok
    finally:
        reader.close()

    storage_owners = {m.participant_id for m in community.members if m.battery or m.ev}
    followed = {tid for sp in read_since(stack.kafka, DISPATCH.name, since_ms)
                if isinstance(sp, DispatchSetpoint) and sp.slot in wanted for tid in sp.trade_ids}
    owed = {t.trade_id for t in trades if {t.buyer, t.seller} & storage_owners}
    assert owed, "the pilot's batteries and plug-in hybrids should trade"
    assert owed <= followed
