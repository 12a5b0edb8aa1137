"""Outages are transient: bounded backoff, faults reported while they last, and nothing dead-lettered for them."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

import services.market.service as market_service
from services.market.domain.solvers import ClearingError
from services.market.service import build_service
from shared.bus import faust_app
from shared.bus.readiness import Readiness
from shared.bus.resilience import Backoff, Faults, retry_async, retry_blocking
from shared.contracts.base import Envelope
from shared.contracts.codec import decode, encode
from shared.contracts.energy import ORDERS, TRADES, EnergyOrderPlaced, GateClosed, TradeMatched
from shared.errors import DomainError, RetryableError
from shared.metrics import ServiceMetrics
from shared.runtime import Outgoing, Service

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
SLOT = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
FAST = Backoff(first_s=0.001, max_s=0.004)


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(faust_app, "BACKOFF", FAST)


class Flaky:
    """Fails ``times`` times with ``exc``, then returns ``value``; records what the faults said meanwhile."""

    def __init__(self, times: int, exc: Exception, value: object = "ok") -> None:
        self.left, self.exc, self.value, self.calls = times, exc, value, 0

    def __call__(self) -> object:
        self.calls += 1
        if self.left:
            self.left -= 1
            raise self.exc
        return self.value


def test_backoff_doubles_up_to_its_cap():
    delays = Backoff(first_s=0.2, max_s=5.0).delays()
    assert [round(next(delays), 3) for _ in range(8)] == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0]


def test_retry_blocking_reports_the_fault_while_it_lasts_and_clears_it():
    faults, seen = Faults(), []
    op = Flaky(3, ConnectionError("database down"))
    assert retry_blocking("ledger write", op, faults, FAST, on_failure=lambda: seen.append(faults.active())) == "ok"
    assert op.calls == 4 and faults.total == 3
    assert all("database down" in s["ledger write"] for s in seen) and len(seen) == 3
    assert faults.active() == {}


def test_retry_async_waits_out_a_broker_outage():
    faults = Faults()
    op = Flaky(2, TimeoutError("no broker"))

    async def call():
        return op()

    assert asyncio.run(retry_async("publish", call, faults, FAST)) == "ok"
    assert op.calls == 3 and faults.active() == {}


def _envelope_bytes(payload) -> bytes:
    return encode(Envelope.wrap(payload, "test", occurred_at=NOW))


def _order(order_id: str, participant: str, side: str, kwh: str, price: str) -> EnergyOrderPlaced:
    return EnergyOrderPlaced(order_id=order_id, participant=participant, side=side, slot=SLOT, kwh=D(kwh),
                             limit_price=D(price), placed_at=NOW)


def test_a_solver_failure_is_retried_and_the_slot_still_clears(monkeypatch):
    """ClearingError is not the gate closure's fault: retried (not dead-lettered), the orders are not lost."""
    assert issubclass(ClearingError, RetryableError) and not issubclass(ClearingError, DomainError)
    service = build_service(clock=lambda: NOW)
    real, failures = market_service.clear_orders, {"left": 2}

    def failing_twice(*args, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise ClearingError("LP ended with status ABNORMAL")
        return real(*args, **kwargs)

    monkeypatch.setattr(market_service, "clear_orders", failing_twice)
    raws = [_envelope_bytes(_order("s1", "u1", "sell", "1.0", "10")),
            _envelope_bytes(_order("b1", "u5", "buy", "1.0", "25")),
            _envelope_bytes(GateClosed(slot=SLOT))]
    faults = Faults()
    outputs, dead = faust_app._deliver_batch(service, ORDERS.name, raws, None, faults)
    assert dead == [] and failures["left"] == 0 and faults.active() == {}
    trades = [env.body() for topic, env in outputs if topic == TRADES.name]
    assert [(t.seller, t.buyer, t.kwh) for t in trades] == [("u1", "u5", D("1.000"))]
    assert all(isinstance(t, TradeMatched) for t in trades)


def test_an_unexpected_error_dead_letters_after_a_few_tries_but_an_outage_never_does():
    calls = {"n": 0}

    def broken(envelope, payload):
        calls["n"] += 1
        raise RuntimeError("bug")

    raw = _envelope_bytes(GateClosed(slot=SLOT))
    bug = Service(name="s", handlers={ORDERS: dict.fromkeys(ORDERS.payloads, broken)})
    _, dead = faust_app._deliver_batch(bug, ORDERS.name, [raw], None, Faults())
    assert calls["n"] == faust_app.RETRIES and dead and "RuntimeError" in dead[0][1][0]

    flaky = Flaky(faust_app.RETRIES + 3, RetryableError("database restarting"), value=None)

    def outage(envelope, payload):
        flaky()
        return [Outgoing(ORDERS, payload)]

    svc = Service(name="s", handlers={ORDERS: dict.fromkeys(ORDERS.payloads, outage)})
    outputs, dead = faust_app._deliver_batch(svc, ORDERS.name, [raw], None, Faults())
    assert dead == [] and flaky.calls == faust_app.RETRIES + 4
    assert isinstance(decode(encode(outputs[0][1]))[1], GateClosed)


def test_serial_runs_one_call_at_a_time():
    serial, active, peak = faust_app._Serial("t"), [0], [0]
    lock = threading.Lock()

    def work():
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.01)
        with lock:
            active[0] -= 1

    async def many():
        await asyncio.gather(*(serial.run(work) for _ in range(8)))

    asyncio.run(many())
    assert peak[0] == 1


def test_readiness_is_false_while_anything_fails_or_the_consumer_is_not_assigned():
    faults, assigned = Faults(), {"ok": True}
    readiness = Readiness("127.0.0.1:1", {"ledger": lambda: None}, faults, lambda: assigned["ok"], timeout_s=0.5)
    asyncio.run(readiness.probe())  # nothing listens on port 1: the broker check fails
    report = readiness.report()
    assert report["ready"] is False and report["checks"]["broker"] is False and report["checks"]["ledger"] is True
    readiness.probed["broker"] = True
    assert readiness.report()["ready"] is True
    faults.failing("settlement: timer anchor", ConnectionError("database down"))
    assert readiness.report()["ready"] is False and "settlement: timer anchor" in readiness.report()["failing"]
    faults.recovered("settlement: timer anchor")
    assigned["ok"] = False
    assert readiness.report()["ready"] is False


def test_the_kafka_adapter_counts_every_dead_letter_it_makes():
    """Through the Kafka adapter's delivery path, an unknown schema version, garbage and a handler that keeps
    failing are all dead letters with their reasons, and the dead-letter metric counts each one."""
    def broken(envelope, payload):
        raise RuntimeError("bug")

    metrics = ServiceMetrics("s")
    future = Envelope.wrap(GateClosed(slot=SLOT), "test").model_copy(update={"schema_version": 99})
    raws = [future.model_dump_json().encode(), b"not json"]
    svc = Service(name="s", handlers={ORDERS: dict.fromkeys(ORDERS.payloads, lambda e, p: [])})
    _, dead = faust_app._deliver_batch(svc, ORDERS.name, raws, metrics, Faults())
    reasons = [reason for _, (reason, _) in dead]
    assert len(reasons) == 2 and "schema_version 99 is not supported" in reasons[0] and "not JSON" in reasons[1]

    bug = Service(name="s", handlers={ORDERS: dict.fromkeys(ORDERS.payloads, broken)})
    _, dead = faust_app._deliver_batch(bug, ORDERS.name, [_envelope_bytes(GateClosed(slot=SLOT))] * 2, metrics,
                                       Faults())
    assert [kind for _, (_, kind) in dead] == ["handler", "handler"]
    assert metrics.dead_lettered.labels("s", ORDERS.name)._value.get() == 4
