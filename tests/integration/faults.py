"""A stack of its own for fault tests: a private Kafka broker and PostgreSQL server that a test may kill.

The suite's shared servers are left alone; these run on ports next to the suite's (``STACK_KAFKA_PORT + 2``
and ``+ 3`` for the controller, ``STACK_PG_PORT + 1``) or on free ports, through the project's own scripts,
so a restart keeps the broker's topics and offsets exactly as ``make up`` would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx
from kafka import KafkaConsumer

from services.localstack import LocalStack, free_port
from shared.contracts.codec import decode
from shared.contracts.energy import SlotCleared, TradeMatched
from shared.errors import EventDecodeError

REPO = Path(__file__).resolve().parents[2]


def _port(env: str, offset: int) -> int:
    base = os.environ.get(env)
    return int(base) + offset if base else free_port()


@dataclass
class Servers:
    """The private broker and database server, driven through infra/kafka/kafka.sh and infra/postgres/pg.sh."""

    kafka_port: int = field(default_factory=lambda: _port("STACK_KAFKA_PORT", 2))
    controller_port: int = field(default_factory=lambda: _port("STACK_KAFKA_PORT", 3))
    pg_port: int = field(default_factory=lambda: _port("STACK_PG_PORT", 1))

    @property
    def kafka_dir(self) -> Path:
        return REPO / ".run" / f"faults-kafka-{self.kafka_port}"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    def kafka(self, command: str) -> str:
        return self._run("infra/kafka/kafka.sh", command, KAFKA_PORT=str(self.kafka_port),
                         KAFKA_CONTROLLER_PORT=str(self.controller_port), KAFKA_DATA_DIR=str(self.kafka_dir))

    def pg(self, command: str) -> str:
        return self._run("infra/postgres/pg.sh", command, PG_PORT=str(self.pg_port))

    def kill_broker(self) -> None:
        """SIGKILL: no clean shutdown, no flush; the restarted broker recovers its logs."""
        pid = int((self.kafka_dir / "kafka.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not _alive(pid), 20, "the broker to die")

    @staticmethod
    def _run(script: str, command: str, **env: str) -> str:
        out = subprocess.run(["bash", script, command], cwd=REPO, env={**os.environ, **env}, capture_output=True,
                             text=True, timeout=600)
        if out.returncode != 0:
            raise RuntimeError(f"{script} {command} failed:\n{out.stdout}\n{out.stderr}")
        return out.stdout.strip()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(") ", 1)[1].startswith("Z"))


def wait_until(check: Callable[[], object], timeout: float, what: str, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # what we wait for may not answer yet
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last!r})")


def ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/ready", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def status(port: int) -> dict:
    return httpx.get(f"http://127.0.0.1:{port}/ready", timeout=3).json()


def instances(run_dir: Path) -> dict[str, dict[str, int]]:
    """Pid and port of every process of the stack, as its stack.json records them."""
    return json.loads((run_dir / "stack.json").read_text())


def all_ready_within(local: LocalStack, timeout: float) -> float:
    """Seconds until every process of the stack answers /ready with 200 (fails after ``timeout``)."""
    started = time.monotonic()
    ports = {name: info["port"] for name, info in instances(local.run_dir).items()}
    for name, port in ports.items():
        wait_until(lambda p=port: ready(p), max(1.0, timeout - (time.monotonic() - started)), f"{name} /ready")
    return time.monotonic() - started


def caught_up(bootstrap: str, group: str, topic: str) -> bool:
    """Whether ``group`` has committed every message of ``topic`` (so a SIGKILL now loses only memory)."""
    from kafka import TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:  # reads the group's committed offsets without joining it
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        ends = consumer.end_offsets(tps)
        return all((consumer.committed(tp) or 0) >= ends[tp] for tp in tps)
    finally:
        consumer.close()


def read_payloads(bootstrap: str, topic: str) -> list:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             consumer_timeout_ms=2000, enable_auto_commit=False)
    try:
        out = []
        for record in consumer:
            try:
                out.append(decode(record.value)[1])
            except EventDecodeError:
                continue
        return out
    finally:
        consumer.close()


@dataclass
class Outcome:
    """What the market published for some slots: distinct trades, and every SlotCleared it sent for them."""

    trades: dict[str, TradeMatched]
    clearings: dict[str, list[SlotCleared]]

    def kwh_by_order(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = defaultdict(Decimal)
        for t in self.trades.values():
            for order_id in (t.sell_order_id, t.buy_order_id):
                if order_id:
                    out[order_id] += t.kwh
        return out


def outcome(bootstrap: str, slots: set[str]) -> Outcome:
    """What the market published for ``slots``: clearings read first, so every trade of a clearing that was read
    is already on its topic when the trades are read."""
    clearings: dict[str, list[SlotCleared]] = defaultdict(list)
    for c in read_payloads(bootstrap, "energy.clearings"):
        if isinstance(c, SlotCleared) and c.slot.isoformat() in slots:
            clearings[c.slot.isoformat()].append(c)
    trades = {t.trade_id: t for t in read_payloads(bootstrap, "energy.trades")
              if isinstance(t, TradeMatched) and t.slot.isoformat() in slots}
    return Outcome(trades, clearings)
