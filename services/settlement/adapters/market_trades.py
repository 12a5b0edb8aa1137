"""The two sides of the market cross-check: trade ids per slot as published on Kafka and as held in the ledger.

The topic is read with a plain consumer outside any group (no offsets committed, nothing disturbed) from its
start to the end offsets seen when the read began, so the answer is a snapshot; energy.trades keeps its
messages forever, so that is every trade the market ever published. Undecodable messages are skipped (they
are dead-lettered by settlement, and were never trades).
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC

from sqlalchemy import select

from services.settlement import schema as t
from services.settlement.domain.market_match import MarketMatch, match
from services.settlement.sql import make_engine, slot_str
from shared.contracts.codec import decode
from shared.contracts.energy import TRADES
from shared.errors import EventDecodeError


def published_trades(bootstrap: str, timeout_s: float = 30.0) -> dict[str, set[str]]:
    """Trade ids per slot (ISO, UTC) that the market published on ``energy.trades``."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                             request_timeout_ms=int(timeout_s * 1000) + 1000)
    try:
        tps = [TopicPartition(TRADES.name, p) for p in sorted(consumer.partitions_for_topic(TRADES.name) or ())]
        out: dict[str, set[str]] = defaultdict(set)
        if not tps:
            return out
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {TRADES} did not reach its end within {timeout_s:.0f}s")
            for records in consumer.poll(timeout_ms=500, max_records=5000).values():
                for rec in records:
                    if rec.offset >= ends[TopicPartition(rec.topic, rec.partition)]:
                        continue
                    try:  # what the market did not publish as a trade (a dead letter's cause) is not one
                        _, trade = decode(rec.value, TRADES)
                    except EventDecodeError:
                        continue
                    out[trade.slot.astimezone(UTC).isoformat()].add(trade.trade_id)
        return out
    finally:
        consumer.close()


def ledger_trades(database_url: str) -> dict[str, set[str]]:
    """Trade ids per slot (ISO, UTC) on the ledger (read only)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(t.trades.c.slot, t.trades.c.trade_id)).tuples().all()
    finally:
        engine.dispose()
    out: dict[str, set[str]] = defaultdict(set)
    for slot, trade_id in rows:
        out[slot_str(slot) or ""].add(trade_id)
    return out


def check_against_market(database_url: str, bootstrap: str, timeout_s: float = 30.0) -> MarketMatch:
    """What the market published against what the ledger holds (the ledger is read after the topic, so a trade
    still in flight shows as missing, never as unexpected)."""
    market = published_trades(bootstrap, timeout_s)
    return match(market, ledger_trades(database_url))
