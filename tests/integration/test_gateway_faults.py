"""The gateway through a broker outage, on a private broker this test may kill (SIGKILL) and restart:
/ready turns false within seconds, orders get a bounded 503 with Retry-After, a retry with the same
Idempotency-Key after the restart is one order, and rejections are readable again within seconds."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from kafka import KafkaProducer

from services.localstack import LocalStack, create_database, drop_database, free_port
from services.market.domain.book import OrderBook
from services.settlement.store import open_ledger
from shared.contracts.base import Envelope
from shared.contracts.codec import decode, encode
from shared.contracts.energy import EnergyOrderPlaced, OrderRejected
from shared.units import slot_start

from .conftest import wait_until
from .test_energy_pipeline import read_records

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def _port(offset: int) -> int:
    base = os.environ.get("STACK_KAFKA_PORT")
    return int(base) + offset if base else free_port()


@dataclass
class PrivateBroker:
    """A broker of this module only, run by infra/kafka/kafka.sh, keeping its data across restarts."""

    port: int
    controller: int

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        return REPO / ".run" / f"gateway-faults-kafka-{self.port}"

    def run(self, command: str) -> None:
        env = {**os.environ, "KAFKA_PORT": str(self.port), "KAFKA_CONTROLLER_PORT": str(self.controller),
               "KAFKA_DATA_DIR": str(self.data_dir), "KAFKA_KEEP_DATA": "1"}
        out = subprocess.run(["bash", "infra/kafka/kafka.sh", command], cwd=REPO, env=env, capture_output=True,
                             text=True, timeout=240)
        assert out.returncode == 0, f"kafka.sh {command} failed:\n{out.stdout}\n{out.stderr}"

    def kill(self) -> None:
        pid = int((self.data_dir / "kafka.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid), 20, "the broker to die")
        # A killed JVM's leader turns zombie before its other threads let go of the port: wait for the port.
        wait_until(lambda: not _listening(self.port), 30, "the broker's port to close")


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except FileNotFoundError:
        return True


@pytest.fixture(scope="module")
def broker() -> Iterator[PrivateBroker]:
    b = PrivateBroker(_port(4), _port(5))
    b.run("start")
    try:
        yield b
    finally:
        b.run("stop")


@pytest.fixture(scope="module")
def gateway(broker: PrivateBroker, database_server_url: str, tmp_path_factory) -> Iterator[str]:
    url = create_database(database_server_url, "gwfaults")
    # The gateway only reads the ledger; settlement (not run here) creates its schema.
    open_ledger(url).close()
    secret = f"test-{uuid.uuid4().hex}"
    local = LocalStack(broker.bootstrap, url, tmp_path_factory.mktemp("gwfaults"), services=("gateway",),
                       env={"CITYMATCH_ENVIRONMENT": "test", "CITYMATCH_TOKEN_SECRET": secret,
                            "CITYMATCH_OPERATOR_TOKEN": f"op-{uuid.uuid4().hex}"})
    local.start()
    local.secret = secret  # type: ignore[attr-defined]
    try:
        yield local
    finally:
        local.stop()
        drop_database(url)


def _headers(local, participant: str, **extra: str) -> dict[str, str]:
    from shared.auth import issue_token

    return {"Authorization": f"Bearer {issue_token(local.secret, participant)}", **extra}


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/ready", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def test_broker_outage_gives_bounded_503s_and_retries_place_one_order(broker, gateway):
    """Kill the broker: /ready false within 5 s; POST answers 503 + Retry-After within 5 s; after the
    restart the same request (same Idempotency-Key) is a 202 and the topic holds one order for it."""
    url = gateway.gateway_url
    slot = slot_start(datetime.now(UTC)) + timedelta(hours=3)
    body = {"side": "buy", "slot": slot.isoformat(), "kwh": "1.5", "limit_price": "20"}
    key = f"retry-{uuid.uuid4().hex[:8]}"
    headers = _headers(gateway, "home-1", **{"Idempotency-Key": key})
    with httpx.Client(base_url=url, timeout=15) as http:
        assert http.post("/v1/energy/orders", json=body, headers=_headers(gateway, "home-2")).status_code == 202

        broker.kill()
        killed = time.monotonic()
        wait_until(lambda: not _ready(url), 5, "/ready to turn false")
        assert time.monotonic() - killed < 5

        started = time.monotonic()
        refused = http.post("/v1/energy/orders", json=body, headers=headers)
        assert refused.status_code == 503, refused.text
        assert int(refused.headers["Retry-After"]) > 0 and "Idempotency-Key" in refused.json()["message"]
        assert time.monotonic() - started < 5

        broker.run("start")
        wait_until(lambda: _ready(url), 60, "/ready after the broker restart")
        placed = wait_until(lambda: (r := http.post("/v1/energy/orders", json=body, headers=headers)).status_code
                            == 202 and r, 30, "the retry to be accepted")
        again = http.post("/v1/energy/orders", json=body, headers=headers)
        assert again.status_code == 202 and again.json() == placed.json()

    order_id = placed.json()["order_id"]
    mine = [p for p in (decode(r.value)[1] for r in read_records(broker.bootstrap, "energy.orders"))
            if isinstance(p, EnergyOrderPlaced) and p.order_id == order_id]
    assert mine, "the accepted order is on the topic"
    book = OrderBook()
    reasons = [book.place(p, datetime.now(UTC)) for p in mine]
    assert reasons == [None] * len(mine) and len(book.orders(slot)) == 1


def test_rejections_are_readable_within_seconds_after_a_broker_restart(broker, gateway):
    """After the broker comes back, a new rejection shows on /v1/energy/rejections within 3 s."""
    url = gateway.gateway_url
    broker.kill()
    broker.run("start")
    wait_until(lambda: _ready(url), 60, "/ready after the broker restart")
    who = f"home-{uuid.uuid4().hex[:6]}"
    rejection = OrderRejected(order_id="o-late", participant=who, reason="gate closed")
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    producer.send("energy.rejections", key=who.encode(), value=encode(Envelope.wrap(rejection, "market"))).get(10)
    producer.close()
    sent = time.monotonic()
    with httpx.Client(base_url=url, timeout=5) as http:
        wait_until(lambda: http.get("/v1/energy/rejections", headers=_headers(gateway, who)).json(), 3,
                   "the rejection to be readable", interval=0.1)
    assert time.monotonic() - sent < 3
