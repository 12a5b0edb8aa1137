"""Faults the platform must live through, on a real broker and a real PostgreSQL server of its own.

Each test runs orders over HTTP through three slots while something dies in the middle: PostgreSQL restarted,
the broker SIGKILLed and restarted, a worker SIGKILLed and started again by `up`, and one of two workers per
service SIGKILLed (its partitions move to the other). Then, whatever happened:

- every order that got a 202 was cleared exactly once: each is in its slot's one clearing and fully traded
  (the orders of a slot match one to one), never twice;
- every trade the market published is on the ledger, and the ledger holds nothing else;
- the ledger verifies against the stack's pinned signing key;
- the operator's reconcile agrees with the market;
- every process's /ready is true again within ``READY_WITHIN_S`` of the fault's end.

A client whose POST failed retries with the same order id, as the API asks; the market takes an order id
once, so a retry can never make a second order.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from services import localstack
from services.localstack import SERVICES, LocalStack, create_database, drop_database
from services.settlement import cli as ledger_cli
from services.settlement.adapters.market_trades import ledger_trades
from shared.auth import issue_token
from shared.units import slot_start

from .faults import REPO, Servers, all_ready_within, caught_up, instances, outcome, ready, status, wait_until

# Bounded: a scenario takes about a minute on an idle machine. On a shared, overloaded one, stretch every bound
# below by CITYMATCH_TEST_PATIENCE (a factor, default 1).
PATIENCE = float(os.environ.get("CITYMATCH_TEST_PATIENCE", "1"))
pytestmark = [pytest.mark.integration, pytest.mark.timeout(int(480 * PATIENCE))]

READY_WITHIN_S = 30 * PATIENCE  # every /ready is true again this long after the fault's end was checked
SETTLE_WITHIN_S = 120 * PATIENCE  # every slot cleared and every trade on the ledger
SEEN_DOWN_WITHIN_S = 10 * PATIENCE  # /ready says false this soon after a dependency dies
START_WITHIN_S = 120 * PATIENCE
ORDERS_PER_SIDE = 6


class FaultStack:
    """The private servers, the stack's processes, and a client that posts orders and closes gates."""

    def __init__(self, servers: Servers, local: LocalStack, database_url: str, secret: str, operator: str,
                 public_key: str) -> None:
        self.servers, self.local, self.database_url = servers, local, database_url
        self.secret, self.operator, self.public_key = secret, operator, public_key
        self._next = slot_start(datetime.now(UTC)) + timedelta(hours=3)
        self.recoveries: dict[str, float] = {}

    def slots(self, n: int) -> list[datetime]:
        out = [self._next + timedelta(minutes=30 * i) for i in range(n)]
        self._next += timedelta(minutes=30 * n)
        return out

    def post(self, path: str, body: dict | None, token: str, within_s: float = 120 * PATIENCE
             ) -> httpx.Response:
        """POST until the gateway accepts it (a 5xx or no answer during an outage is retried, same body)."""
        deadline = time.monotonic() + within_s
        last: object = None
        while time.monotonic() < deadline:
            try:
                r = httpx.post(self.local.gateway_url + path, json=body, timeout=15,
                               headers={"Authorization": f"Bearer {token}"})
                if r.status_code < 300:
                    return r
                if r.status_code < 500 and r.status_code != 429:
                    raise AssertionError(f"{path} refused: {r.status_code} {r.text}")
                last = r.status_code
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.5)
        raise AssertionError(f"{path} not accepted within {within_s:.0f}s (last: {last!r})")

    def orders(self, slot: datetime, tag: str) -> list[str]:
        """Sellers and buyers of 1 kWh each whose limits all cross: every order trades fully, once."""
        ids = []
        for i in range(ORDERS_PER_SIDE):
            for side, who, price in (("sell", f"pv-{tag}-{i}", "8"), ("buy", f"home-{tag}-{i}", "30")):
                order_id = f"{tag}-{slot:%H%M}-{side}-{i}"
                body = {"order_id": order_id, "side": side, "slot": slot.isoformat(), "kwh": "1.0",
                        "limit_price": price}
                r = self.post("/v1/energy/orders", body, issue_token(self.secret, who))
                assert r.status_code == 202, r.text
                ids.append(order_id)
        return ids

    def close(self, slot: datetime) -> None:
        self.post(f"/v1/operator/slots/{slot.isoformat()}/close", None, self.operator)

    def port(self, name: str) -> int:
        return instances(self.local.run_dir)[name]["port"]

    def kill(self, name: str) -> int:
        """SIGKILL one process of the stack and wait until it is gone; returns its pid."""
        pid = instances(self.local.run_dir)[name]["pid"]
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not localstack._alive(pid), 20 * PATIENCE, f"{name} to die")
        return pid

    def seen_down(self, name: str) -> None:
        wait_until(lambda: not ready(self.port(name)), SEEN_DOWN_WITHIN_S, f"{name} /ready to say false")

    def market_caught_up(self) -> None:
        """Wait until the market has committed every order so far (they then live only in its memory)."""
        wait_until(lambda: caught_up(self.servers.bootstrap, "citymatch-market", "energy.orders"), 60 * PATIENCE,
                   "the market to commit slot 2's orders", interval=0.5)

    def check(self, slots: list[datetime], accepted: list[str], fault: str, fault_over: float) -> None:
        """The guarantees of the module docstring, for these slots (and the whole ledger)."""
        keys = {s.isoformat() for s in slots}

        def settled():
            got = outcome(self.servers.bootstrap, keys)
            held = ledger_trades(self.database_url)
            on_ledger = set().union(*(held.get(k, set()) for k in keys))
            # Trades and clearings are on two topics, read one after the other: a slot counts as cleared only
            # once every trade its clearing announces has been read too.
            complete = set(got.clearings) == keys and all(
                sum(t.slot.isoformat() == k for t in got.trades.values()) >= got.clearings[k][0].trades for k in keys)
            return got if complete and set(got.trades) <= on_ledger else None

        got = wait_until(settled, SETTLE_WITHIN_S, f"every slot cleared and settled after {fault}", interval=1)
        for key, cleared in got.clearings.items():  # one clearing per slot, repeated identically at most
            assert len({(c.orders, c.trades, c.kwh) for c in cleared}) == 1, cleared
            assert cleared[0].orders == 2 * ORDERS_PER_SIDE, (key, cleared[0])
        traded = got.kwh_by_order()
        assert set(traded) == set(accepted)
        assert {traded[o] for o in accepted} == {Decimal("1.000")}, {o: traded[o] for o in accepted}
        held = ledger_trades(self.database_url)
        assert set().union(*(held.get(k, set()) for k in keys)) == set(got.trades)
        assert ledger_cli.main(["verify", "--database-url", self.database_url, "--public-key",
                                self.public_key]) == 0
        self.recoveries[fault] = time.monotonic() - fault_over
        took = all_ready_within(self.local, READY_WITHIN_S)
        r = httpx.get(self.local.gateway_url + "/v1/operator/ledger/reconcile", timeout=60,
                      headers={"Authorization": f"Bearer {self.operator}"}).json()
        assert r["ok"] and r["market"]["ok"], r
        assert ledger_cli.main(["reconcile", "--database-url", self.database_url,
                                "--market", self.servers.bootstrap]) == 0
        print(f"[faults] {fault}: all /ready within {took:.1f}s of the check; "  # noqa: T201  (shown with -s)
              f"settled {self.recoveries[fault]:.1f}s after the fault ended")


@pytest.fixture(scope="module")
def faulty() -> Iterator[FaultStack]:
    servers = Servers()
    run_dir = REPO / ".run" / "faults-stack"  # logs kept after the run, for a look at what happened
    shutil.rmtree(run_dir, ignore_errors=True)
    private = Ed25519PrivateKey.generate()
    key = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    secret, operator = f"test-{uuid.uuid4().hex}", f"op-{uuid.uuid4().hex}"
    env = {"CITYMATCH_ENVIRONMENT": "test", "CITYMATCH_TOKEN_SECRET": secret, "CITYMATCH_OPERATOR_TOKEN": operator,
           "CITYMATCH_LEDGER_SIGNING_KEY": key}
    database_url = None
    local = None
    try:
        servers.kafka("reset")
        servers.kafka("start")
        servers.pg("start")
        database_url = create_database(servers.pg("url").removeprefix("DATABASE_URL="), "faults")
        local = LocalStack(servers.bootstrap, database_url, run_dir, env=env)
        local.start(timeout_s=START_WITHIN_S)
        yield FaultStack(servers, local, database_url, secret, operator, public)
    finally:
        if local is not None:
            local.stop()
            localstack.main(["down", "--run-dir", str(run_dir)])  # what a partial `up` started
        try:
            if database_url:
                drop_database(database_url)
        finally:
            servers.kafka("stop")
            servers.pg("stop")


def run(stack: FaultStack, fault: str, start: Callable[[], None], end: Callable[[], None],
        before_second_gate: Callable[[], None] | None = None) -> None:
    """Slot 1 clears as the fault starts; slot 2's orders flow during it; slot 3 after it ends."""
    tag = uuid.uuid4().hex[:6]
    s1, s2, s3 = stack.slots(3)
    accepted = stack.orders(s1, tag)
    stack.close(s1)
    start()
    accepted += stack.orders(s2, tag)
    if before_second_gate:
        before_second_gate()
    stack.close(s2)
    end()
    fault_over = time.monotonic()
    accepted += stack.orders(s3, tag)
    stack.close(s3)
    stack.check([s1, s2, s3], accepted, fault, fault_over)


def test_postgres_restarted_mid_stream(faulty: FaultStack):
    """Settlement waits out the database (not-ready meanwhile), then records every trade once."""
    def start():
        faulty.servers.pg("stop")
        faulty.seen_down("settlement")
        assert "ledger" in str(status(faulty.port("settlement")))

    def end():
        faulty.servers.pg("start")

    run(faulty, "PostgreSQL restart", start, end)
    assert faulty.local.procs["settlement"].poll() is None  # the same process: it never died


def test_broker_killed_and_restarted_mid_stream(faulty: FaultStack):
    """Workers and gateway live through a SIGKILLed broker; the restarted broker kept every topic and offset."""
    restarted = threading.Event()

    def start():
        faulty.servers.kill_broker()
        faulty.seen_down("market")
        faulty.seen_down("settlement")

        def later():
            time.sleep(2)
            faulty.servers.kafka("start")
            restarted.set()
        threading.Thread(target=later, daemon=True).start()

    def end():
        assert restarted.wait(120 * PATIENCE), "the broker did not restart"

    run(faulty, "broker SIGKILL", start, end)
    assert all(faulty.local.procs[n].poll() is None for n in ("market", "settlement"))


def test_worker_killed_and_started_again_by_up(faulty: FaultStack, monkeypatch):
    """SIGKILLed settlement (trades in flight) and market (orders only in its memory) are started again by
    `up`, which keeps what still runs; the restarted market rebuilds its book from the topic."""
    kill = {}

    def start():
        kill["settlement"] = faulty.kill("settlement")

    def before_second_gate():
        faulty.market_caught_up()
        faulty.kill("market")

    def end():
        for name, value in faulty.local.env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("KAFKA_BOOTSTRAP", faulty.servers.bootstrap)
        monkeypatch.setenv("DATABASE_URL", faulty.database_url)
        before = instances(faulty.local.run_dir)
        assert localstack.main(["up", "--run-dir", str(faulty.local.run_dir), "--services", ",".join(SERVICES),
                                "--timeout", str(START_WITHIN_S)]) == 0
        after = instances(faulty.local.run_dir)
        assert after["gateway"] == before["gateway"]  # kept, not restarted
        assert after["settlement"]["pid"] != kill["settlement"]
        assert {n: i["port"] for n, i in after.items()} == {n: i["port"] for n, i in before.items()}

    run(faulty, "worker SIGKILL", start, end, before_second_gate)


def test_one_of_two_workers_killed_mid_stream(faulty: FaultStack):
    """Two markets and two settlements share their consumer groups; the ones doing the work are SIGKILLed with
    a slot's orders accepted; the others take the partitions over and replay what they had not seen."""
    faulty.local.add_instance("market", "market-2", START_WITHIN_S)
    faulty.local.add_instance("settlement", "settlement-2", START_WITHIN_S)

    def owner(service: str, topic: str) -> str:
        names = [n for n in instances(faulty.local.run_dir) if n.split("-")[0] == service]
        return wait_until(lambda: next((n for n in names if f"{topic}[0]" in status(faulty.port(n))["partitions"]),
                                       None), 60 * PATIENCE, f"the {service} that owns {topic}")

    def start():
        pass

    def before_second_gate():
        market, settlement = owner("market", "energy.orders"), owner("settlement", "energy.trades")
        faulty.market_caught_up()
        for name in (market, settlement):
            faulty.kill(name)
        faulty.local.write_state()  # drops the dead
        assert not {market, settlement} & set(instances(faulty.local.run_dir))

    run(faulty, "one of two workers SIGKILLed", start, lambda: None, before_second_gate)
