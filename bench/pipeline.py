"""Sustained orders -> gateway -> market -> trades -> settlement -> ledger throughput over real Kafka and PostgreSQL.

Needs KAFKA_BOOTSTRAP and DATABASE_URL (``make bench-pipeline`` starts both). The gateway, the market and the
settlement run as their own processes, exactly as in production (``python -m services <name>``). Orders enter
over HTTP with device tokens, one ``POST /v1/energy/orders/batch`` per participant and slot (its price steps),
a few requests in flight; each slot's gate closure is published once the gateway has acknowledged all of the
slot's orders, as the market's timer would. Baseline in the same run: a bare Kafka produce -> consume round
trip of the same number of messages of the same size with each client the project has (kafka-python and
aiokafka); the ratio is against the faster, named in ``baseline.client``, so it is the cost of the platform's
work (HTTP, auth, decode, clear, settle, hash, sign, commit, three more broker hops) on top of the broker.

End-to-end latency of a trade = record time of its ledger receipt (set when settlement publishes it, after
the ledger commit) - record time of its slot's gate closure (the last input the trade depends on). Both are
wall-clock times of this machine, so reading the topics late does not inflate the figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import numpy as np
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from bench.common import write_report
from services.localstack import LocalStack, create_database
from shared.auth import issue_token
from shared.contracts.base import Envelope
from shared.contracts.codec import decode, encode
from shared.contracts.energy import CLEARINGS, ORDERS, TRADES, EnergyOrderPlaced, GateClosed
from shared.contracts.ledger import RECEIPTS
from shared.errors import EventDecodeError
from shared.units import slot_start


def slot_orders(slot: datetime, n: int, rng: random.Random, tag: str, ladder: int = 1) -> list[EnergyOrderPlaced]:
    """Half sellers asking 8-16 yen, half buyers bidding 12-26 yen: most of them trade.

    ``ladder`` orders of one side share a participant (a device agent's price steps for the slot), so a
    participant's orders for a slot go to the gateway in one request.
    """
    out = []
    for i in range(n):
        sell = i % 2 == 0
        price = rng.uniform(8, 16) if sell else rng.uniform(12, 26)
        out.append(EnergyOrderPlaced(
            order_id=f"{tag}-{slot:%H%M}-{i}", participant=f"{'pv' if sell else 'home'}-{i // (2 * ladder)}",
            side="sell" if sell else "buy", slot=slot, kwh=Decimal(f"{rng.uniform(0.2, 3.0):.3f}"),
            limit_price=Decimal(f"{price:.2f}"), renewable=sell))
    return out


def requests_of(orders: list[EnergyOrderPlaced]) -> list[tuple[str, dict]]:
    """One gateway request per participant: (participant, body of POST /v1/energy/orders/batch)."""
    by: dict[str, list[dict]] = {}
    for o in orders:
        by.setdefault(o.participant, []).append({
            "order_id": o.order_id, "side": o.side, "slot": o.slot.isoformat(), "kwh": str(o.kwh),
            "limit_price": str(o.limit_price), "renewable": o.renewable})
    return [(p, {"orders": body}) for p, body in by.items()]


def _wait_for_assignment(consumer: KafkaConsumer, topics: int, timeout_s: float = 30) -> None:
    """Join the group and pin each partition's position, so nothing produced afterwards is missed."""
    deadline = time.monotonic() + timeout_s
    while len({tp.topic for tp in consumer.assignment()}) < topics and time.monotonic() < deadline:
        consumer.poll(timeout_ms=200)
    for tp in consumer.assignment():
        consumer.position(tp)


def _reader_at_end(bootstrap: str, topics: list[str]) -> KafkaConsumer:
    """A consumer of every partition of ``topics``, positioned at their ends now (no group: a rebalance can never
    move it back to "latest" and skip what arrives meanwhile)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=20)
    partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
    consumer.assign(partitions)
    consumer.seek_to_end(*partitions)
    for tp in partitions:
        consumer.position(tp)
    return consumer


def kafka_round_trip(bootstrap: str, messages: list[bytes], pings: int = 200) -> dict[str, float]:
    """Bare broker: burst throughput of ``messages``, then one-message ping-pong latency (one hop)."""
    topic = f"bench.roundtrip.{uuid.uuid4().hex[:6]}"
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False,
                             group_id=f"bench-{topic}", fetch_max_wait_ms=5)
    consumer.subscribe([topic])
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    producer.send(topic, b"warm-up").get(10)
    _wait_for_assignment(consumer, topics=1)

    def drain(expect: int, timeout_s: float = 120) -> int:
        got, deadline = 0, time.monotonic() + timeout_s
        while got < expect and time.monotonic() < deadline:
            got += sum(len(r) for r in consumer.poll(timeout_ms=200).values())
        return got

    drain(1, 10)
    t0 = time.perf_counter()
    for value in messages:
        producer.send(topic, value=value)
    producer.flush()
    received = drain(len(messages))
    elapsed = time.perf_counter() - t0
    latencies = []
    for _ in range(pings):
        t = time.perf_counter()
        producer.send(topic, value=messages[0]).get(10)
        drain(1, 10)
        latencies.append((time.perf_counter() - t) * 1000)
    producer.close()
    consumer.close()
    return {"events_per_s": received / elapsed, "p50_ms": float(np.percentile(latencies, 50)),
            "p99_ms": float(np.percentile(latencies, 99)), "messages": received, "seconds": elapsed,
            "hops": 1}


def aiokafka_round_trip(bootstrap: str, messages: list[bytes]) -> dict[str, float]:
    """Bare broker through aiokafka (the client under the Faust workers): burst produce -> consume throughput."""
    import asyncio

    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    topic = f"bench.aio.{uuid.uuid4().hex[:6]}"

    async def run() -> dict[str, float]:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                    enable_auto_commit=False, group_id=f"bench-{topic}", fetch_max_wait_ms=5)
        await producer.start()
        await producer.send_and_wait(topic, b"warm-up")
        await consumer.start()
        try:
            got = 0
            while got < 1:
                got += sum(len(r) for r in (await consumer.getmany(timeout_ms=200)).values())
            t0 = time.perf_counter()
            futures = [await producer.send(topic, value) for value in messages]
            await producer.flush()
            await asyncio.gather(*futures)
            received, deadline = 0, time.monotonic() + 120
            while received < len(messages) and time.monotonic() < deadline:
                received += sum(len(r) for r in (await consumer.getmany(timeout_ms=200, max_records=10000)).values())
            elapsed = time.perf_counter() - t0
            return {"events_per_s": received / elapsed, "messages": received, "seconds": elapsed, "hops": 1}
        finally:
            await consumer.stop()
            await producer.stop()

    return asyncio.run(run())


class Gateway:
    """Orders through the real gateway over HTTP (auth, validation, publish with acks=all), a few in flight."""

    def __init__(self, url: str, secret: str, in_flight: int = 8) -> None:
        self.url, self.secret, self.in_flight = url, secret, in_flight
        self._tokens: dict[str, str] = {}

    def token(self, participant: str) -> str:
        if participant not in self._tokens:
            self._tokens[participant] = issue_token(self.secret, participant, role="device")
        return self._tokens[participant]

    async def send(self, client: httpx.AsyncClient, requests: list[tuple[str, dict]]) -> None:
        gate = asyncio.Semaphore(self.in_flight)

        async def one(participant: str, body: dict) -> None:
            async with gate:
                r = await client.post(f"{self.url}/v1/energy/orders/batch", json=body,
                                      headers={"Authorization": f"Bearer {self.token(participant)}"})
                if r.status_code != 202:
                    raise RuntimeError(f"gateway answered {r.status_code}: {r.text[:300]}")

        await asyncio.gather(*(one(p, b) for p, b in requests))


IDLE_S = 5.0  # seconds of the idle stack measured before the burst


def pipeline(bootstrap: str, gateway: Gateway, slots: int, per_slot: int, seed: int, rate: float = 0,
             first_slot_hours: float = 3, ladder: int = 20) -> dict[str, float]:
    """Run ``slots`` slots of ``per_slot`` orders through the gateway; ``rate`` > 0 paces the orders (orders/s),
    0 sends a burst. Each slot's gate closes (published as the market's timer would) once the gateway has
    acknowledged all of that slot's orders."""
    rng = random.Random(seed)
    tag = uuid.uuid4().hex[:6]
    first = slot_start(datetime.now(UTC)) + timedelta(hours=first_slot_hours)
    consumer = _reader_at_end(bootstrap, [RECEIPTS.name, CLEARINGS.name])
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    plan = [(first + timedelta(minutes=30 * k)) for k in range(slots)]
    batches = {slot: requests_of(slot_orders(slot, per_slot, rng, tag, ladder)) for slot in plan}
    gate_acked: dict[str, float] = {}
    orders_sent = sum(len(b["orders"]) for reqs in batches.values() for _, b in reqs)

    def close(slot: datetime) -> None:
        gate = GateClosed(slot=slot)
        meta = producer.send(ORDERS.name, key=gate.key().encode(),
                             value=encode(Envelope.wrap(gate, "bench"))).get(10)
        gate_acked[slot.isoformat()] = meta.timestamp / 1000  # record time (ms), same clock as the receipts

    async def feed() -> None:
        limits = httpx.Limits(max_connections=gateway.in_flight, max_keepalive_connections=gateway.in_flight)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            sent = 0
            for slot in plan:
                if rate > 0:  # paced: each request starts on schedule, whether or not earlier ones have answered
                    tasks = []
                    for participant, body in batches[slot]:
                        ahead = t0 + sent / rate - time.perf_counter()
                        if ahead > 0:
                            await asyncio.sleep(ahead)
                        tasks.append(asyncio.create_task(gateway.send(client, [(participant, body)])))
                        sent += len(body["orders"])
                    await asyncio.gather(*tasks)
                else:
                    await gateway.send(client, batches[slot])
                await asyncio.to_thread(close, slot)

    t0 = time.perf_counter()
    t0_wall = time.time()
    asyncio.run(feed())
    fed_at = time.time()
    producer.close()
    trades_expected_by_slot: dict[str, int] = {}
    cleared_at: dict[str, float] = {}
    receipts: dict[str, float] = {}
    expected_trades: int | None = None
    done_at = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500, max_records=5000).values():
            for rec in records:
                if rec.topic == CLEARINGS.name:
                    try:
                        _, payload = decode(rec.value)
                    except EventDecodeError:
                        continue
                    if payload.slot.isoformat() in gate_acked:
                        trades_expected_by_slot[payload.slot.isoformat()] = payload.trades
                        cleared_at[payload.slot.isoformat()] = rec.timestamp / 1000
                else:  # receipts: only the trade id is needed (plain JSON, to keep this process light)
                    trade_id = json.loads(rec.value).get("payload", {}).get("trade_id")
                    if trade_id is not None and trade_id not in receipts:
                        receipts[trade_id] = rec.timestamp / 1000  # when settlement published it
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
    # where the time goes: the market (gate closure -> clearing record), settlement (clearing -> receipt)
    market_ms = np.array([(cleared_at[s] - gate_acked[s]) * 1000 for s in cleared_at])
    settle_ms = np.array([(receipts[t] - cleared_at[trade_slot[t]]) * 1000 for t in receipts if t in trade_slot])
    elapsed = max(receipts.values()) - t0_wall  # first order sent -> last trade settled
    return {"events_per_s": orders_sent / elapsed, "orders": orders_sent, "trades": len(receipts),
            "trades_per_s": len(receipts) / elapsed, "seconds": elapsed, "feed_seconds": fed_at - t0_wall,
            "market_p50_ms": float(np.percentile(market_ms, 50)), "market_p99_ms": float(np.percentile(market_ms, 99)),
            "settle_p50_ms": float(np.percentile(settle_ms, 50)), "settle_p99_ms": float(np.percentile(settle_ms, 99)),
            "p50_ms": float(np.percentile(lat, 50)), "p95_ms": float(np.percentile(lat, 95)),
            "p99_ms": float(np.percentile(lat, 99))}


def _trade_slots(bootstrap: str, trade_ids: set[str]) -> dict[str, str]:
    consumer = KafkaConsumer(TRADES.name, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=3000)
    out = {}
    for rec in consumer:  # plain JSON: only the id and the slot are needed
        payload = json.loads(rec.value).get("payload", {})
        if payload.get("trade_id") in trade_ids:
            out[payload["trade_id"]] = datetime.fromisoformat(payload["slot"]).isoformat()
    consumer.close()
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), 0 where it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def gateway_only(bootstrap: str, server: str, args: argparse.Namespace) -> int:
    """The gateway alone (settlement beside it only for the ledger's schema): the same burst of order batches,
    no gate closures, so its CPU per order and its rate are not mixed with the market's and the ledger's work."""
    secret = uuid.uuid4().hex
    stack = LocalStack(bootstrap, create_database(server, "bench_gw"),
                       Path(tempfile.mkdtemp(prefix="bench-gateway-")), env={"CITYMATCH_TOKEN_SECRET": secret},
                       services=("settlement", "gateway"))
    stack.start()
    try:
        gateway = Gateway(stack.gateway_url, secret, in_flight=args.in_flight)
        rng = random.Random(args.seed)
        first = slot_start(datetime.now(UTC)) + timedelta(hours=3)
        batches = [requests_of(slot_orders(first + timedelta(minutes=30 * k), args.orders_per_slot, rng,
                                           uuid.uuid4().hex[:6], args.ladder)) for k in range(args.slots)]

        async def feed(part: list[list[tuple[str, dict]]]) -> None:
            limits = httpx.Limits(max_connections=gateway.in_flight, max_keepalive_connections=gateway.in_flight)
            async with httpx.AsyncClient(timeout=30, limits=limits) as client:
                for requests in part:
                    await gateway.send(client, requests)

        warm = max(1, args.slots // 8)
        asyncio.run(feed(batches[:warm]))  # connections, tokens and the producer's metadata
        pid = stack.procs["gateway"].pid
        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        asyncio.run(feed(batches[warm:]))
        seconds, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
    finally:
        stack.stop()
    orders = sum(len(body["orders"]) for requests in batches[warm:] for _, body in requests)
    size = len(encode(Envelope.wrap(slot_orders(slot_start(datetime.now(UTC)), 1, random.Random(0), "x")[0], "b")))
    baseline = {**aiokafka_round_trip(bootstrap, [b"x" * size] * orders), "client": "aiokafka"}
    metrics = {"events_per_s": orders / seconds, "cpu_ms_per_order": 1000 * cpu / orders, "orders": orders,
               "seconds": seconds, "path": "HTTP POST /v1/energy/orders/batch -> gateway -> Kafka (acks=all)"}
    params = {"slots": args.slots - warm, "orders_per_slot": args.orders_per_slot, "seed": args.seed,
              "orders_per_request": args.ladder, "requests_in_flight": args.in_flight}
    path = write_report("gateway", params, metrics, baseline,
                        {"throughput_vs_bare_kafka": metrics["events_per_s"] / baseline["events_per_s"]})
    print(f"gateway alone: {orders} orders in {seconds:.1f}s = {metrics['events_per_s']:.0f} orders/s, "
          f"{metrics['cpu_ms_per_order']:.3f} ms CPU per order; bare Kafka (aiokafka) "
          f"{baseline['events_per_s']:.0f} msg/s -> {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=40, help="slots per run (at most 80: the market's horizon)")
    parser.add_argument("--orders-per-slot", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate", type=float, default=1000.0, help="paced orders/s for the latency run")
    parser.add_argument("--ladder", type=int, default=20,
                        help="orders per participant and slot, sent in one gateway request")
    parser.add_argument("--in-flight", type=int, default=8, help="gateway requests in flight in the burst")
    parser.add_argument("--quick", action="store_true", help="5 slots x 50 orders")
    parser.add_argument("--gateway-only", action="store_true",
                        help="the gateway alone: its CPU per order and rate (reports/bench/gateway.json)")
    parser.add_argument("--rate-quick", type=float, default=100.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.slots, args.orders_per_slot, args.rate = 5, 50, args.rate_quick
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP")
    server = os.environ.get("DATABASE_URL")
    if not bootstrap or not server:
        parser.error("set KAFKA_BOOTSTRAP and DATABASE_URL, or run `make bench-pipeline`")
    if args.gateway_only:
        return gateway_only(bootstrap, server, args)
    secret = uuid.uuid4().hex
    stack = LocalStack(bootstrap, create_database(server, "bench"), Path(tempfile.mkdtemp(prefix="bench-pipeline-")),
                       env={"CITYMATCH_TOKEN_SECRET": secret})
    stack.start()
    try:
        gateway = Gateway(stack.gateway_url, secret, in_flight=args.in_flight)
        # what each process costs doing nothing (consumers polling, timers), as a share of one core
        idle_from = {name: cpu_seconds(p.pid) for name, p in stack.procs.items()}
        time.sleep(IDLE_S)
        idle = {name: 100 * (cpu_seconds(p.pid) - idle_from[name]) / IDLE_S for name, p in stack.procs.items()}
        before = {name: cpu_seconds(p.pid) for name, p in stack.procs.items()}
        burst = pipeline(bootstrap, gateway, args.slots, args.orders_per_slot, args.seed, ladder=args.ladder)
        # what each process spent on the burst: on a shared 2-core machine, CPU per order says more than time
        burst_cpu = {name: cpu_seconds(p.pid) - before[name] for name, p in stack.procs.items()}
        # fresh slots for the paced run: cleared ones are closed
        paced = pipeline(bootstrap, gateway, args.slots, args.orders_per_slot, args.seed + 1, rate=args.rate,
                         first_slot_hours=3 + args.slots / 2, ladder=args.ladder)
    finally:
        stack.stop()
    size = len(encode(Envelope.wrap(slot_orders(slot_start(datetime.now(UTC)), 1, random.Random(0), "x")[0], "b")))
    payloads = [b"x" * size] * burst["orders"]
    by_client = {"kafka-python": kafka_round_trip(bootstrap, payloads),
                 "aiokafka": aiokafka_round_trip(bootstrap, payloads)}
    fastest = max(by_client, key=lambda c: by_client[c]["events_per_s"])
    # The ratio is against the fastest client the project has, measured here in the same run.
    baseline = {**by_client[fastest], "client": fastest,
                **{f"{c}_events_per_s": r["events_per_s"] for c, r in by_client.items()}}
    if "p50_ms" not in baseline:
        baseline["p50_ms"] = by_client["kafka-python"]["p50_ms"]
    # Throughput from the burst (the pipeline's capacity); latency from the paced run (below capacity), so the
    # percentiles measure processing, not the queue a burst builds up.
    result = {"events_per_s": burst["events_per_s"], "p50_ms": paced["p50_ms"], "p95_ms": paced["p95_ms"],
              "p99_ms": paced["p99_ms"], "path": "HTTP gateway (POST /v1/energy/orders/batch) -> market -> settlement "
                                                 "-> PostgreSQL -> ledger.receipts",
              "orders": burst["orders"], "trades": burst["trades"], "trades_per_s": burst["trades_per_s"],
              "seconds": burst["seconds"], "burst_p50_ms": burst["p50_ms"], "burst_p99_ms": burst["p99_ms"],
              "burst_feed_seconds": burst["feed_seconds"],
              **{f"burst_cpu_ms_per_order_{name}": 1000 * s / burst["orders"] for name, s in burst_cpu.items()},
              **{f"idle_cpu_pct_{name}": pct for name, pct in idle.items()},
              **{f"{run}_{stage}_{q}_ms": r[f"{stage}_{q}_ms"] for run, r in (("burst", burst), ("paced", paced))
                 for stage in ("market", "settle") for q in ("p50", "p99")},
              "paced_rate_orders_per_s": args.rate, "paced_achieved_orders_per_s": paced["events_per_s"]}
    params = {"slots": args.slots, "orders_per_slot": args.orders_per_slot, "seed": args.seed,
              "message_bytes": size, "paced_rate": args.rate, "orders_per_request": args.ladder,
              "requests_in_flight": args.in_flight}
    ratio = {"throughput_vs_bare_kafka": result["events_per_s"] / baseline["events_per_s"],
             "p50_vs_bare_kafka": result["p50_ms"] / baseline["p50_ms"]}
    path = write_report("pipeline", params, result, baseline, ratio)
    print(f"burst: {result['orders']} orders -> {result['trades']} settled trades in {result['seconds']:.1f}s = "
          f"{result['events_per_s']:.0f} orders/s through the gateway; paced at {args.rate:.0f}/s: "
          f"p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms; "
          f"bare Kafka ({baseline['client']}) {baseline['events_per_s']:.0f} msg/s, p50 {baseline['p50_ms']:.1f} ms, "
          f"ratio {ratio['throughput_vs_bare_kafka']:.2f} -> {path}")
    print(f"where the burst's time goes: orders fed in {result['burst_feed_seconds']:.1f}s; per slot, gate closure -> "
          f"clearing p50 {result['burst_market_p50_ms']:.0f} / p99 {result['burst_market_p99_ms']:.0f} ms, "
          f"clearing -> ledger receipt p50 {result['burst_settle_p50_ms']:.0f} / p99 "
          f"{result['burst_settle_p99_ms']:.0f} ms; CPU per order: "
          + ", ".join(f"{name} {1000 * s / burst['orders']:.2f} ms" for name, s in burst_cpu.items())
          + "; idle: " + ", ".join(f"{name} {pct:.1f} % of a core" for name, pct in idle.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
