"""The running platform for end-to-end tests: market and settlement as Faust workers on the real broker,
the gateway under uvicorn, and the ledger in a fresh database on the real PostgreSQL server."""

from __future__ import annotations

import itertools
import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from services.localstack import LocalStack, create_database, drop_database
from shared.units import slot_start

HORIZON_DAYS = 400


_RNG = random.Random(uuid.uuid4().int)
_NEXT = itertools.count()
_BASE = slot_start(datetime.now(UTC)) + timedelta(days=_RNG.randrange(181, 360))


def fresh_slot() -> datetime:
    """A slot no other test of this run uses (consecutive from a random day 181-360 days ahead), so it is also
    unlikely to be one an earlier run on the same broker has closed."""
    return _BASE + timedelta(minutes=30 * next(_NEXT))


def fresh_day() -> datetime:
    """The first of 48 slots, 30-180 days ahead, apart from the fresh_slot range."""
    return slot_start(datetime.now(UTC)) + timedelta(days=_RNG.randrange(30, 180))


@dataclass
class Stack:
    gateway: str
    kafka: str
    database_url: str
    token_secret: str
    operator_token: str
    local: LocalStack

    def token(self, participant: str) -> str:
        from shared.auth import issue_token

        return issue_token(self.token_secret, participant)

    def headers(self, participant: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(participant)}"}


def wait_until(check: Callable[[], object], timeout: float, what: str, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # the thing we wait for may not be up yet
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last_error!r})")


def ledger_entry(database_url: str, kind: str, ref: str):
    """The ledger's entry of ``kind`` for ``ref`` (None while settlement has not booked it), read as an operator
    reads it: through the read-only model, opened and closed for each look."""
    from services.settlement.read_model import open_read_model

    ledger = open_read_model(database_url)
    try:
        return ledger.entry(kind, ref)
    finally:
        ledger.close()


@pytest.fixture(scope="session")
def stack_database_url(database_server_url: str) -> Iterator[str]:
    url = create_database(database_server_url, "stack")
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def stack(kafka_bootstrap: str, stack_database_url: str, tmp_path_factory) -> Iterator[Stack]:
    """Market and settlement Faust workers plus the gateway, started as real processes."""
    run_dir = tmp_path_factory.mktemp("stack")
    secret, operator = f"test-{uuid.uuid4().hex}", f"op-{uuid.uuid4().hex}"
    key = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()
    local = LocalStack(kafka_bootstrap, stack_database_url, run_dir, env={
        "CITYMATCH_ENVIRONMENT": "test", "CITYMATCH_TOKEN_SECRET": secret, "CITYMATCH_OPERATOR_TOKEN": operator,
        "CITYMATCH_LEDGER_SIGNING_KEY": key,
        # The Higashi-Fuji pilot community (registry, devices, grid tariffs); app users outside it are admitted.
        "CITYMATCH_MARKET_COMMUNITY": "higashi_fuji", "CITYMATCH_MARKET_ADMIT_UNREGISTERED": "true",
        # A long horizon lets each test pick slots no earlier run on the same broker has closed.
        "CITYMATCH_MARKET_HORIZON_DAYS": str(HORIZON_DAYS)})
    local.start()
    try:
        yield Stack(local.gateway_url, kafka_bootstrap, stack_database_url, secret, operator, local)
    finally:
        local.stop()
