"""The running platform for end-to-end tests: market and settlement as Faust workers on the real broker,
the gateway under uvicorn, and the ledger in a fresh database on the real PostgreSQL server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    gateway: str
    kafka: str
    database_url: str
    token_secret: str
    operator_token: str
    logs: Path

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


@pytest.fixture(scope="session")
def stack_database_url(database_server_url: str) -> Iterator[str]:
    url = make_url(database_server_url)
    name = f"stack_{uuid.uuid4().hex[:10]}"
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def stack(kafka_bootstrap: str, stack_database_url: str, tmp_path_factory, port_factory) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("stack-logs")
    secret, operator = f"test-{uuid.uuid4().hex}", f"op-{uuid.uuid4().hex}"
    base_env = {
        **os.environ,
        "CITYMATCH_ENVIRONMENT": "test",
        "CITYMATCH_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "CITYMATCH_DATABASE_URL": stack_database_url,
        "CITYMATCH_TOKEN_SECRET": secret,
        "CITYMATCH_OPERATOR_TOKEN": operator,
        "CITYMATCH_DATA_DIR": str(logs / "data"),
        "PYTHONUNBUFFERED": "1",
    }
    procs: list[tuple[str, subprocess.Popen, int]] = []
    gateway_port = port_factory()
    for name in ("settlement", "market", "gateway"):
        port = gateway_port if name == "gateway" else port_factory()
        env = {**base_env, "CITYMATCH_WEB_PORT": str(port), "CITYMATCH_GATEWAY_PORT": str(port)}
        log = open(logs / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([sys.executable, "-m", "services", name], cwd=REPO, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        procs.append((name, proc, port))
    try:
        for name, proc, port in procs:
            def up(proc=proc, port=port, name=name):
                if proc.poll() is not None:
                    raise AssertionError(f"{name} exited with {proc.returncode}:\n"
                                         + (logs / f"{name}.log").read_text()[-3000:])
                return httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200
            try:
                wait_until(up, 90, f"{name} to be ready")
            except AssertionError as exc:
                if "exited" in str(exc):
                    raise
                raise AssertionError(f"{exc}\n{(logs / f'{name}.log').read_text()[-3000:]}") from None
        yield Stack(f"http://127.0.0.1:{gateway_port}", kafka_bootstrap, stack_database_url, secret, operator, logs)
    finally:
        for _, proc, _ in procs:
            proc.terminate()
        for _, proc, _ in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
