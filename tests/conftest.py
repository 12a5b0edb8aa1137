"""Real servers for the tests that need them, and the seeded Hypothesis profiles.

Hypothesis: the default profile ``ci`` derandomizes (examples derived from each test, the same on every
run and machine, no example database), so a run can fail only on an example anyone can reproduce;
``HYPOTHESIS_PROFILE=explore`` draws fresh random examples (and more, where a test sets no budget of its
own), keeps failures in the example database and prints how to reproduce them.

Kafka: ``KAFKA_BOOTSTRAP`` when set (``make test`` starts a broker with infra/with-stack.sh); otherwise a
testcontainers Kafka when a Docker engine answers; otherwise the broker started by infra/kafka/kafka.sh.
PostgreSQL likewise with ``DATABASE_URL``, testcontainers, or infra/postgres/pg.sh. No mock, fake or
in-memory stand-in for either.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from services.localstack import create_database, drop_database, free_port

REPO = Path(__file__).resolve().parent.parent

settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False, max_examples=500, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def docker_answers() -> bool:
    """A Docker client alone is not enough; ``docker info`` must reach an engine (fails fast where none runs)."""
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _script(cmd: list[str], env: dict[str, str]) -> str:
    out = subprocess.run(["bash", *cmd], env={**os.environ, **env}, capture_output=True, text=True, cwd=REPO)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
    sys.__stderr__.write(out.stdout)
    return out.stdout


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    if os.environ.get("KAFKA_BOOTSTRAP"):
        yield os.environ["KAFKA_BOOTSTRAP"]
    elif docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("apache/kafka:4.1.1").with_kraft() as kafka:
            yield kafka.get_bootstrap_server()
    else:
        port = free_port()
        env = {"KAFKA_PORT": str(port), "KAFKA_CONTROLLER_PORT": str(free_port())}
        _script(["infra/kafka/kafka.sh", "start"], env)
        try:
            yield f"127.0.0.1:{port}"
        finally:
            _script(["infra/kafka/kafka.sh", "stop"], env)


@pytest.fixture(scope="session")
def database_server_url() -> Iterator[str]:
    """A SQLAlchemy URL of a real PostgreSQL server's maintenance database."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
    elif docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:15", driver="psycopg") as pg:
            yield pg.get_connection_url()
    else:
        port = str(free_port())
        _script(["infra/postgres/pg.sh", "start"], {"PG_PORT": port})
        try:
            yield _script(["infra/postgres/pg.sh", "url"], {"PG_PORT": port}).strip().removeprefix("DATABASE_URL=")
        finally:
            _script(["infra/postgres/pg.sh", "stop"], {"PG_PORT": port})


@pytest.fixture
def database_url(database_server_url: str) -> Iterator[str]:
    """A fresh, empty database on the real server for one test; dropped afterwards."""
    url = create_database(database_server_url, "t")
    try:
        yield url
    finally:
        drop_database(url)
