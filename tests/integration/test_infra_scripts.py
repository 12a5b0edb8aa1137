"""The local-server scripts keep data unless told otherwise, and never share one checkout's data with another."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from services.localstack import free_port

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def _checkout(root: Path, name: str) -> Path:
    """A copy of the scripts as a fresh clone would have them, in a folder only root can enter (mode 0700)."""
    checkout = root / name
    (checkout / "infra").mkdir(parents=True)
    shutil.copytree(REPO / "infra" / "postgres", checkout / "infra" / "postgres")
    shutil.copytree(REPO / "infra" / "kafka", checkout / "infra" / "kafka",
                    ignore=shutil.ignore_patterns("lib", "lib.tmp.*"))
    root.chmod(0o700)
    return checkout


def _run(checkout: Path, script: str, command: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(checkout / script), command], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=180)


def test_kafka_reset_is_the_only_command_that_wipes(tmp_path):
    """`reset` deletes the broker's storage; nothing else in the script does (start formats only once)."""
    checkout = _checkout(tmp_path, "a")
    data = tmp_path / "kafka-data"
    (data / "kraft-logs").mkdir(parents=True)
    (data / "kraft-logs" / "meta.properties").write_text("cluster.id=kept\n")
    script = (checkout / "infra/kafka/kafka.sh").read_text()
    assert "KAFKA_KEEP_DATA" not in script and script.count("rm -rf \"$DATA_DIR/kraft-logs\"") == 1
    out = _run(checkout, "infra/kafka/kafka.sh", "reset", KAFKA_PORT=str(free_port()), KAFKA_DATA_DIR=str(data))
    assert out.returncode == 0, out.stderr
    assert not (data / "kraft-logs").exists() and "deleted" in out.stdout


def test_each_checkout_gets_its_own_postgres_data(tmp_path):
    """Two clones the postgres user cannot enter fall back to two different clusters, and say where."""
    port = str(free_port())
    first, second = _checkout(tmp_path / "one", "clone"), _checkout(tmp_path / "two", "clone")
    dirs = []
    try:
        for checkout, marker in ((first, True), (second, False)):
            out = _run(checkout, "infra/postgres/pg.sh", "start", PG_PORT=port)
            assert out.returncode == 0, out.stderr
            assert "this checkout's cluster lives in" in out.stderr and str(checkout) in out.stderr
            status = _run(checkout, "infra/postgres/pg.sh", "status", PG_PORT=port)
            dirs.append(status.stdout.rsplit("data dir ", 1)[1].rstrip(")\n"))
            with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/citymatch", autocommit=True) as conn:
                if marker:
                    conn.execute("CREATE TABLE first_clone_was_here (x int)")
                found = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'first_clone_was_here'")
                assert found.fetchone()[0] == (1 if marker else 0)
            assert _run(checkout, "infra/postgres/pg.sh", "stop", PG_PORT=port).returncode == 0
        assert dirs[0] != dirs[1] and all(d.startswith("/tmp/citymatch-pg-") for d in dirs)
    finally:
        for checkout in (first, second):
            _run(checkout, "infra/postgres/pg.sh", "stop", PG_PORT=port)
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
