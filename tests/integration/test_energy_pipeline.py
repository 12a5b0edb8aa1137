"""End to end over a real Kafka broker and a real PostgreSQL server:
HTTP orders -> market (Faust) -> trades -> settlement (Faust) -> ledger rows -> read back over HTTP."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import httpx
import pytest
from kafka import KafkaConsumer, KafkaProducer

from services.settlement.read_model import open_read_model
from shared.contracts.base import Envelope
from shared.contracts.codec import decode, encode
from shared.contracts.energy import ORDERS, TRADES, TradeMatched
from shared.contracts.ledger import RECEIPTS
from shared.errors import EventDecodeError

from .conftest import fresh_slot, wait_until

pytestmark = pytest.mark.integration


def future_slot() -> datetime:
    """An open slot that no other test, and no earlier run on the same broker, uses."""
    return fresh_slot()


def trade(slot: datetime, seller: str, buyer: str, kwh: str = "1.000", price: str = "15.00") -> TradeMatched:
    return TradeMatched(trade_id=f"t-{uuid.uuid4().hex[:12]}", slot=slot, seller=seller, buyer=buyer,
                        kwh=Decimal(kwh), price=Decimal(price), tier="B", wheeling_fee=Decimal("0"))


def ledger_trade_ids(database_url: str, participant: str) -> list[str]:
    ledger = open_read_model(database_url)
    try:
        return [row.trade_id for row in ledger.trades_for(participant)]
    finally:
        ledger.close()


def test_orders_over_http_become_ledger_rows_readable_over_http(stack):
    """Orders posted over HTTP clear into trades that land on the ledger and read back through the API."""
    slot = future_slot()
    tag = uuid.uuid4().hex[:6]
    seller_a, seller_b, buyer_c, buyer_d = (f"{n}-{tag}" for n in ("pv-a", "pv-b", "home-c", "home-d"))
    orders = [
        (seller_a, {"side": "sell", "kwh": "2.0", "limit_price": "10.00", "renewable": True}),
        (seller_b, {"side": "sell", "kwh": "1.0", "limit_price": "14.00"}),
        (buyer_c, {"side": "buy", "kwh": "1.5", "limit_price": "20.00"}),
        (buyer_d, {"side": "buy", "kwh": "1.0", "limit_price": "12.00"}),
    ]
    with httpx.Client(base_url=stack.gateway, timeout=10) as http:
        for who, body in orders:
            r = http.post("/v1/energy/orders", json={"slot": slot.isoformat(), **body}, headers=stack.headers(who))
            assert r.status_code == 202, r.text
        r = http.post(f"/v1/operator/slots/{slot.isoformat()}/close",
                      headers={"Authorization": f"Bearer {stack.operator_token}"})
        assert r.status_code == 200, r.text

        mine = wait_until(lambda: http.get("/v1/energy/trades", headers=stack.headers(buyer_c)).json(), 60,
                          "buyer's trades to be readable")
        everyone = {who: http.get("/v1/energy/trades", headers=stack.headers(who)).json() for who, _ in orders}

    assert all(t["buyer"] == buyer_c and t["role"] == "buyer" for t in mine)
    assert sum(Decimal(t["kwh"]) for t in mine) <= Decimal("1.5")
    assert all(Decimal(t["price"]) <= Decimal("20.00") for t in mine)
    bought = sum(Decimal(t["kwh"]) for who in (buyer_c, buyer_d) for t in everyone[who])
    sold = sum(Decimal(t["kwh"]) for who in (seller_a, seller_b) for t in everyone[who])
    assert bought == sold > 0  # supply equals demand inside the slot's contracts
    for who, body in orders:  # nobody trades across its limit
        for t in everyone[who]:
            limit = Decimal(body["limit_price"])
            assert Decimal(t["price"]) <= limit if body["side"] == "buy" else Decimal(t["price"]) >= limit
    # The same trades are rows in the real PostgreSQL ledger.
    assert {t["trade_id"] for t in mine} <= set(ledger_trade_ids(stack.database_url, buyer_c))


def test_open_orders_survive_a_market_crash(stack):
    """Orders accepted before the market is killed are still in the book after it restarts, and clear."""
    slot = future_slot()
    tag = uuid.uuid4().hex[:6]
    seller, buyer = f"pv-crash-{tag}", f"home-crash-{tag}"
    metrics = f"http://127.0.0.1:{stack.local.ports['market']}/metrics"

    def orders_seen() -> float:
        line = next(ln for ln in httpx.get(metrics, timeout=5).text.splitlines()
                    if ln.startswith('citymatch_messages_in_total{service="market",topic="energy.orders"}'))
        return float(line.rsplit(" ", 1)[1])

    before = wait_until(lambda: orders_seen() + 1, 30, "market metrics") - 1
    with httpx.Client(base_url=stack.gateway, timeout=10) as http:
        for who, side, price in ((seller, "sell", "8"), (buyer, "buy", "22")):
            body = {"side": side, "slot": slot.isoformat(), "kwh": "0.7", "limit_price": price}
            assert http.post("/v1/energy/orders", json=body, headers=stack.headers(who)).status_code == 202
        wait_until(lambda: orders_seen() >= before + 2, 30, "the market to take both orders")
        stack.local.crash_and_restart("market")
        http.post(f"/v1/operator/slots/{slot.isoformat()}/close",
                  headers={"Authorization": f"Bearer {stack.operator_token}"})
        trades = wait_until(lambda: http.get("/v1/energy/trades", headers=stack.headers(buyer)).json(), 60,
                            "the trade after the restart")
    assert [(t["seller"], t["kwh"]) for t in trades] == [(seller, "0.700")]


def test_malformed_order_gets_422_naming_the_field(stack):
    """A malformed order is refused over real HTTP with 422 and a message naming the bad field."""
    body = {"side": "buy", "slot": future_slot().isoformat(), "kwh": "-2", "limit_price": "20"}
    r = httpx.post(f"{stack.gateway}/v1/energy/orders", json=body, headers=stack.headers("home-x"), timeout=10)
    assert r.status_code == 422
    assert "kwh" in r.json()["message"]


def test_rejected_order_reason_reaches_the_sender(stack):
    """An app user without a registered device offering more than the app-user allowance is refused by the
    market; the sender reads which limit and by how much."""
    who = f"roof-{uuid.uuid4().hex[:6]}"
    body = {"side": "sell", "slot": future_slot().isoformat(), "kwh": "50", "limit_price": "8"}
    with httpx.Client(base_url=stack.gateway, timeout=10) as http:
        r = http.post("/v1/energy/orders", json=body, headers=stack.headers(who))
        assert r.status_code == 202, r.text
        order_id = r.json()["order_id"]
        got = wait_until(lambda: http.get("/v1/energy/rejections", headers=stack.headers(who)).json(), 60,
                         "the rejection")
    assert got[0]["order_id"] == order_id
    assert "app-user sell allowance" in got[0]["reason"] and "kWh over" in got[0]["reason"]


def test_same_trade_delivered_twice_yields_one_ledger_row(stack):
    """At-least-once delivery of one trade gives exactly one ledger entry and one set of receipts."""
    slot = future_slot()
    tag = uuid.uuid4().hex[:6]
    dup, sentinel = trade(slot, f"s-{tag}", f"b-{tag}"), trade(slot, f"s-{tag}", f"b2-{tag}")
    producer = KafkaProducer(bootstrap_servers=stack.kafka, acks="all")
    raw = encode(Envelope.wrap(dup, "test"))
    for value in (raw, raw, encode(Envelope.wrap(sentinel, "test"))):
        producer.send(TRADES.name, key=dup.key().encode(), value=value).get(10)
    producer.close()

    wait_until(lambda: sentinel.trade_id in ledger_trade_ids(stack.database_url, sentinel.buyer), 60,
               "the sentinel trade on the ledger")
    assert ledger_trade_ids(stack.database_url, dup.buyer).count(dup.trade_id) == 1
    assert ledger_trade_ids(stack.database_url, dup.seller).count(dup.trade_id) == 1
    # Each delivery is answered with the same receipts (same event ids), so a consumer keeps one of each.
    receipts = {}
    for record in read_records(stack.kafka, RECEIPTS.name):
        envelope, payload = decode(record.value)
        if getattr(payload, "trade_id", None) == dup.trade_id:
            receipts[envelope.event_id] = payload.participant
    assert sorted(receipts.values()) == sorted([dup.buyer, dup.seller])


def dead_lettered_count(stack, service: str, topic: str) -> float:
    """The service's dead-letter counter for ``topic``, read from its /metrics page."""
    text = httpx.get(f"http://127.0.0.1:{stack.local.ports[service]}/metrics", timeout=5).text
    line = f'citymatch_dead_lettered_total{{service="{service}",topic="{topic}"}} '
    return sum(float(row.removeprefix(line)) for row in text.splitlines() if row.startswith(line))


def test_malformed_kafka_message_is_dead_lettered_and_next_is_processed(stack):
    """A malformed message lands in <topic>.dlq with its reason and original bytes; the next one still settles.
    A message of an unknown schema version is one of them, and the dead-letter metric counts every one."""
    counted_before = dead_lettered_count(stack, "settlement", TRADES.name)
    on_topic_before = len(read_records(stack.kafka, TRADES.dlq))
    slot = future_slot()
    good = trade(slot, "s-dlq", f"b-{uuid.uuid4().hex[:6]}")
    garbage = f"not-an-envelope-{uuid.uuid4().hex}".encode()
    bad_schema = Envelope.wrap(good, "test").model_dump(mode="json")
    bad_schema["payload"]["kwh"] = "-1"
    bad_schema_raw = Envelope.model_validate(bad_schema).model_dump_json().encode()
    misrouted = encode(Envelope.wrap(trade(slot, "s-dlq", f"b-{uuid.uuid4().hex[:6]}"), "test"))
    future = trade(slot, "s-dlq", f"b-{uuid.uuid4().hex[:6]}")
    version_99 = Envelope.wrap(future, "test").model_copy(update={"schema_version": 99}).model_dump_json().encode()
    producer = KafkaProducer(bootstrap_servers=stack.kafka, acks="all")
    for value in (garbage, bad_schema_raw, misrouted):  # the last is valid but keyed off its slot
        producer.send(TRADES.name, key=b"k", value=value).get(10)
    producer.send(TRADES.name, key=future.key().encode(), value=version_99).get(10)
    producer.send(TRADES.name, key=good.key().encode(), value=encode(Envelope.wrap(good, "test"))).get(10)
    producer.close()

    wait_until(lambda: good.trade_id in ledger_trade_ids(stack.database_url, good.buyer), 60, "the good trade")
    records = wait_until(lambda: (r := read_records(stack.kafka, TRADES.dlq)) and len(r) >= on_topic_before + 4 and r,
                         30, "the four dead letters")
    dead = {m.value: dict(m.headers) for m in records}
    assert garbage in dead and bad_schema_raw in dead and misrouted in dead and version_99 in dead
    assert future.trade_id not in ledger_trade_ids(stack.database_url, future.buyer)
    assert b"schema_version 99 is not supported" in dead[version_99]["x-dlq-reason"]
    assert b"not JSON" in dead[garbage]["x-dlq-reason"]
    assert b"payload.kwh" in dead[bad_schema_raw]["x-dlq-reason"]
    assert b"record key 'k' is not the envelope's key" in dead[misrouted]["x-dlq-reason"]
    assert dead[garbage]["x-dlq-source-topic"] == TRADES.name.encode()
    assert len(records) - on_topic_before == 4
    wait_until(lambda: dead_lettered_count(stack, "settlement", TRADES.name) - counted_before == 4, 10,
               "the dead-letter metric to count all four")


def test_market_dead_letters_garbage_orders_and_keeps_clearing(stack):
    """Garbage on energy.orders is dead-lettered by the market, which still clears the next slot."""
    producer = KafkaProducer(bootstrap_servers=stack.kafka, acks="all")
    garbage = f"{{broken {uuid.uuid4().hex}".encode()
    producer.send(ORDERS.name, key=b"x", value=garbage).get(10)
    producer.close()
    slot = future_slot()
    tag = uuid.uuid4().hex[:6]
    with httpx.Client(base_url=stack.gateway, timeout=10) as http:
        for who, side, price in ((f"s-{tag}", "sell", "9"), (f"b-{tag}", "buy", "25")):
            body = {"side": side, "slot": slot.isoformat(), "kwh": "0.5", "limit_price": price}
            assert http.post("/v1/energy/orders", json=body, headers=stack.headers(who)).status_code == 202
        http.post(f"/v1/operator/slots/{slot.isoformat()}/close",
                  headers={"Authorization": f"Bearer {stack.operator_token}"})
        wait_until(lambda: http.get("/v1/energy/trades", headers=stack.headers(f"b-{tag}")).json(), 60,
                   "the next slot's trade")
    dead = [m for m in read_records(stack.kafka, ORDERS.dlq) if m.value == garbage]
    assert dead and b"not JSON" in dict(dead[0].headers)["x-dlq-reason"]


def read_records(bootstrap: str, topic: str) -> list:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             consumer_timeout_ms=3000, enable_auto_commit=False)
    try:
        return list(consumer)
    finally:
        consumer.close()


def read_topic(bootstrap: str, topic: str) -> list:
    """Every decodable payload on ``topic`` (other tests put deliberate garbage on some topics)."""
    out = []
    for record in read_records(bootstrap, topic):
        try:
            out.append(decode(record.value)[1])
        except EventDecodeError:
            continue
    return out
