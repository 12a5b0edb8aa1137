"""Sustained orders -> market -> trades -> settlement -> ledger throughput over real Kafka and PostgreSQL.

Needs KAFKA_BOOTSTRAP and DATABASE_URL (``make bench-pipeline`` starts both). The market and settlement run
as Faust workers, exactly as in production. Baseline in the same run: a bare Kafka produce -> consume round
trip of the same number of messages of the same size, so the ratio is the cost of the platform's work
(decode, clear, settle, hash, sign, commit) on top of the broker itself.

End-to-end latency of a trade = time its ledger receipt is consumed - time its slot's gate closure was
acknowledged by the broker (the last input the trade depends on).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import psycopg
from kafka import KafkaConsumer, KafkaProducer
from sqlalchemy.engine import make_url

from bench.common import write_report
from services.localstack import LocalStack
from shared.errors import EventDecodeError
from shared.events import EnergyOrderPlaced, Envelope, GateClosed, slot_start
from shared.serialization import decode, encode


def fresh_database(server_url: str) -> str:
    url = make_url(server_url)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def slot_orders(slot: datetime, n: int, rng: random.Random, tag: str) -> list[EnergyOrderPlaced]:
    """Half sellers asking 8-16 yen, half buyers bidding 12-26 yen: most of them trade."""
    out = []
    for i in range(n):
        sell = i % 2 == 0
        price = rng.uniform(8, 16) if sell else rng.uniform(12, 26)
        out.append(EnergyOrderPlaced(
            order_id=f"{tag}-{slot:%H%M}-{i}", participant=f"{'pv' if sell else 'home'}-{i}",
            side="sell" if sell else "buy", slot=slot, kwh=Decimal(f"{rng.uniform(0.2, 3.0):.3f}"),
            limit_price=Decimal(f"{price:.2f}"), renewable=sell))
    return out


def kafka_round_trip(bootstrap: str, messages: list[bytes]) -> dict[str, float]:
    topic = f"bench.roundtrip.{uuid.uuid4().hex[:6]}"
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    consumer.subscribe([topic])
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=1)
    producer.send(topic, b"warm-up").get(10)
    deadline = time.monotonic() + 30
    while not consumer.assignment() and time.monotonic() < deadline:
        consumer.poll(timeout_ms=200)
    sent: dict[int, float] = {}
    latencies: list[float] = []
    t0 = time.perf_counter()
    for i, value in enumerate(messages):
        sent[i] = time.perf_counter()
        producer.send(topic, key=str(i).encode(), value=value)
    producer.flush()
    while len(latencies) < len(messages) and time.monotonic() < deadline + 120:
        for records in consumer.poll(timeout_ms=500).values():
            now = time.perf_counter()
            for rec in records:
                if rec.key is not None:
                    latencies.append(now - sent[int(rec.key)])
    elapsed = time.perf_counter() - t0
    producer.close()
    consumer.close()
    lat = np.array(latencies) * 1000
    return {"events_per_s": len(latencies) / elapsed, "p50_ms": float(np.percentile(lat, 50)),
            "p99_ms": float(np.percentile(lat, 99)), "messages": len(latencies), "seconds": elapsed}


def pipeline(bootstrap: str, slots: int, per_slot: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    tag = uuid.uuid4().hex[:6]
    first = slot_start(datetime.now(UTC)) + timedelta(hours=3)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="latest", enable_auto_commit=False)
    consumer.subscribe(["ledger.receipts", "energy.clearings"])
    deadline = time.monotonic() + 30
    while not consumer.assignment() and time.monotonic() < deadline:
        consumer.poll(timeout_ms=200)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)
    gate_acked: dict[str, float] = {}
    expected_trades: int | None = None
    trades_expected_by_slot: dict[str, int] = {}
    receipts: dict[str, float] = {}
    trade_slot: dict[str, str] = {}
    orders_sent = 0
    t0 = time.perf_counter()
    for k in range(slots):
        slot = first + timedelta(minutes=30 * k)
        for order in slot_orders(slot, per_slot, rng, tag):
            producer.send("energy.orders", key=order.key().encode(), value=encode(Envelope.wrap(order, "bench")))
            orders_sent += 1
        gate = GateClosed(slot=slot)
        producer.send("energy.orders", key=gate.key().encode(), value=encode(Envelope.wrap(gate, "bench"))).get(10)
        gate_acked[slot.isoformat()] = time.perf_counter()
    producer.close()
    done_at = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            now = time.perf_counter()
            for rec in records:
                try:
                    _, payload = decode(rec.value)
                except EventDecodeError:
                    continue
                if rec.topic == "energy.clearings" and payload.slot.isoformat() in gate_acked:
                    trades_expected_by_slot[payload.slot.isoformat()] = payload.trades
                elif rec.topic == "ledger.receipts" and payload.trade_id not in receipts:
                    receipts[payload.trade_id] = now
        if len(trades_expected_by_slot) == slots:
            expected_trades = sum(trades_expected_by_slot.values())
            if len(receipts) >= expected_trades:
                done_at = time.perf_counter()
                break
    consumer.close()
    if done_at is None:
        raise RuntimeError(f"pipeline did not finish: {len(trades_expected_by_slot)}/{slots} slots cleared, "
                           f"{len(receipts)}/{expected_trades} trades settled")
    # Attribute each receipt to its slot's gate closure through the trade's slot (receipts carry the trade id).
    trade_slot = _trade_slots(bootstrap, set(receipts))
    lat = np.array([(receipts[t] - gate_acked[trade_slot[t]]) * 1000 for t in receipts if t in trade_slot])
    elapsed = done_at - t0
    return {"events_per_s": orders_sent / elapsed, "orders": orders_sent, "trades": len(receipts),
            "trades_per_s": len(receipts) / elapsed, "seconds": elapsed,
            "p50_ms": float(np.percentile(lat, 50)), "p99_ms": float(np.percentile(lat, 99))}


def _trade_slots(bootstrap: str, trade_ids: set[str]) -> dict[str, str]:
    consumer = KafkaConsumer("energy.trades", bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=3000)
    out = {}
    for rec in consumer:
        try:
            _, trade = decode(rec.value)
        except EventDecodeError:
            continue  # dead-lettered by the services; not ours
        if trade.trade_id in trade_ids:
            out[trade.trade_id] = trade.slot.isoformat()
    consumer.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=40)
    parser.add_argument("--orders-per-slot", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="5 slots x 50 orders")
    args = parser.parse_args(argv)
    if args.quick:
        args.slots, args.orders_per_slot = 5, 50
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP")
    server = os.environ.get("DATABASE_URL")
    if not bootstrap or not server:
        parser.error("set KAFKA_BOOTSTRAP and DATABASE_URL, or run `make bench-pipeline`")
    stack = LocalStack(bootstrap, fresh_database(server), Path(tempfile.mkdtemp(prefix="bench-pipeline-")))
    stack.start()
    try:
        result = pipeline(bootstrap, args.slots, args.orders_per_slot, args.seed)
    finally:
        stack.stop()
    size = len(encode(Envelope.wrap(slot_orders(slot_start(datetime.now(UTC)), 1, random.Random(0), "x")[0], "b")))
    baseline = kafka_round_trip(bootstrap, [b"x" * size] * result["orders"])
    params = {"slots": args.slots, "orders_per_slot": args.orders_per_slot, "seed": args.seed,
              "message_bytes": size}
    ratio = {"throughput_vs_bare_kafka": result["events_per_s"] / baseline["events_per_s"],
             "p50_vs_bare_kafka": result["p50_ms"] / baseline["p50_ms"]}
    path = write_report("pipeline", params, result, baseline, ratio)
    print(f"{result['orders']} orders -> {result['trades']} settled trades in {result['seconds']:.1f}s: "
          f"{result['events_per_s']:.0f} orders/s, p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms; "
          f"bare Kafka {baseline['events_per_s']:.0f} msg/s, p50 {baseline['p50_ms']:.1f} ms -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
