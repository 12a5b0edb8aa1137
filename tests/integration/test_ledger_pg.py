"""The ledger on a real PostgreSQL: exactly once under concurrent and repeated delivery, crash safety,
several workers on one chain, and verification of everything they wrote."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.settlement import sql
from services.settlement.domain.kinds.trade import NAME as TRADE
from services.settlement.store import SqlLedger, open_ledger
from shared.contracts.energy import TradeMatched

pytestmark = pytest.mark.integration

KEY = bytes(range(32))
SLOT = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)


def trades(n: int, prefix: str = "t", slots: int = 4) -> list[TradeMatched]:
    return [
        TradeMatched(trade_id=f"{prefix}{i}", slot=SLOT + timedelta(minutes=30 * (i % slots)),
                     seller=f"seller-{i % 7}", buyer=f"buyer-{i % 11}", kwh=Decimal(i % 900 + 1) / 100,
                     price=Decimal(2000 + i % 1500) / 100, wheeling_fee=Decimal("3.10"), renewable=i % 3 == 0,
                     seller_site=f"site-{i % 7}")
        for i in range(n)
    ]


def assert_complete(ledger: SqlLedger, expected: int) -> None:
    """The ledger holds each trade once, on a gap-free chain that verifies and reconciles."""
    assert ledger.trade_count() == expected
    seqs = [e.seq for e in ledger.entries()]
    assert seqs == list(range(1, len(seqs) + 1))
    report = ledger.verify()
    assert report.ok, report.summary()
    assert ledger.reconcile().ok, ledger.reconcile().problems


def test_round_trip_on_postgres(database_url) -> None:
    """Trades, certificates, anchors and statements survive PostgreSQL's types (timestamptz, bigint)."""
    ledger = open_ledger(database_url, KEY)
    assert all(r is not None for r in ledger.record_trades(trades(30)))
    assert ledger.record_trades(trades(30)) == [None] * 30
    assert len(ledger.anchor_pending()) == 4
    cert = ledger.certificates("buyer-0")[0]
    assert ledger.retire_certificate(cert.cert_id, "buyer-0", "FY2026 RE target").accepted
    statement = ledger.statement("buyer-0", SLOT, SLOT + timedelta(hours=1))
    assert statement.lines and all(line.slot < "2026-11-27T01:00" for line in statement.lines)
    assert ledger.trades_for("buyer-0")[0].to_json()["slot"] == "2026-11-27T00:00:00+00:00"
    assert_complete(ledger, 30)
    ledger.close()


def test_concurrent_redelivery_settles_once(database_url) -> None:
    """Four workers delivering the same trades at once record each exactly once, on one unforked chain."""
    stream = trades(200)
    open_ledger(database_url, KEY).close()
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        ledger = open_ledger(database_url, KEY)
        try:
            for i in range(0, len(stream), 10):
                batch = stream[(i + offset * 50) % len(stream):][:10] or stream[:10]
                ledger.record_trades(batch)
            for tr in stream:
                ledger.record_trade(tr)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            ledger.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    ledger = open_ledger(database_url, KEY)
    assert_complete(ledger, 200)
    ledger.close()


def test_workers_on_different_partitions_share_one_chain(database_url) -> None:
    """Three workers with disjoint trades interleave on the sequencer without forking the chain."""
    parts = [trades(150, prefix=f"p{k}-") for k in range(3)]

    def worker(stream: list[TradeMatched]) -> None:
        ledger = open_ledger(database_url, KEY)
        for i in range(0, len(stream), 7):
            ledger.record_trades(stream[i:i + 7])
        ledger.close()

    threads = [threading.Thread(target=worker, args=(p,)) for p in parts]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    ledger = open_ledger(database_url, KEY)
    assert_complete(ledger, 450)
    ledger.close()


def test_failure_inside_a_batch_leaves_nothing_half_done(database_url, monkeypatch) -> None:
    """An error between writing a batch's entries and its postings rolls the whole batch back."""
    ledger = open_ledger(database_url, KEY)
    ledger.record_trades(trades(10))
    real = sql.copy_rows

    def crash_on_postings(conn, table, rows):
        if table.name == "ledger_postings":
            raise RuntimeError("worker died mid-batch")
        return real(conn, table, rows)

    monkeypatch.setattr(sql, "copy_rows", crash_on_postings)
    with pytest.raises(RuntimeError):
        ledger.record_trades(trades(60))  # big enough to be written through COPY, table after table
    monkeypatch.undo()
    assert ledger.trade_count() == 10
    assert len(list(ledger.entries())) == 10
    new = ledger.record_trades(trades(60))  # the redelivered batch after the restart
    assert sum(r is not None for r in new) == 50
    assert_complete(ledger, 60)
    ledger.close()


WORKER = textwrap.dedent("""
    import os, sys
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal
    from services.settlement.store import open_ledger
    from shared.contracts.energy import TradeMatched
    slot = datetime(2026, 11, 27, tzinfo=UTC)
    ledger = open_ledger(os.environ["DATABASE_URL"], bytes(range(32)))
    n = int(sys.argv[1])
    for start in range(0, n, 50):  # one batch per "poll"; the offset would be committed after each
        batch = [TradeMatched(trade_id=f"k{i}", slot=slot + timedelta(minutes=30 * (i % 5)), seller="s",
                              buyer=f"b{i % 9}", kwh=Decimal("1.25"), price=Decimal("24.50"),
                              renewable=i % 2 == 0, seller_site="roof") for i in range(start, start + 50)]
        ledger.record_trades(batch)
        print(start + 50, flush=True)
""")


def test_killed_worker_restarts_to_a_complete_ledger(database_url) -> None:
    """A worker SIGKILLed mid-stream, restarted from offset 0, leaves every trade once and a valid chain."""
    env = {**os.environ, "DATABASE_URL": database_url}
    n = 3000
    victim = subprocess.Popen([sys.executable, "-c", WORKER, str(n)], env=env, stdout=subprocess.PIPE, text=True)
    assert victim.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # let it write a few batches, then kill it without warning
        line = victim.stdout.readline()
        if line and int(line) >= 500:
            break
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    ledger = open_ledger(database_url, KEY)
    partial = ledger.trade_count()
    assert 500 <= partial < n and partial % 50 == 0  # whole batches only
    assert ledger.verify().ok
    restarted = subprocess.run([sys.executable, "-c", WORKER, str(n)], env=env, capture_output=True, text=True,
                               timeout=120)
    assert restarted.returncode == 0, restarted.stderr
    assert_complete(ledger, n)
    assert sum(1 for e in ledger.entries() if e.kind == TRADE) == n
    ledger.close()


def test_concurrent_first_open_migrates_once(database_url) -> None:
    """Workers opening a fresh database at the same moment all succeed (migrations take turns)."""
    errors: list[BaseException] = []

    def opener() -> None:
        try:
            open_ledger(database_url, KEY).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []


def test_tampering_in_postgres_is_named_by_the_cli(database_url, capsys) -> None:
    """An UPDATE on a stored entry is reported by `citymatch ledger verify` at that entry (exit 1)."""
    from sqlalchemy import text

    from services.settlement.cli import main

    ledger = open_ledger(database_url, KEY)
    ledger.record_trades(trades(40))
    ledger.anchor_pending()
    assert main(["verify", "--database-url", database_url]) == 0
    assert main(["reconcile", "--database-url", database_url]) == 0
    with ledger.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_entries SET body = replace(body, '\"tier\":\"B\"', '\"tier\":\"A\"') "
                          "WHERE seq = 17"))
    capsys.readouterr()
    assert main(["verify", "--database-url", database_url]) == 1
    assert "seq 17" in capsys.readouterr().out
    ledger.close()


def test_reader_on_postgres_is_read_only(database_url) -> None:
    """Opening and using a reader changes no row anywhere; its sessions refuse writes; an empty database is
    'no ledger', not a migration."""
    from sqlalchemy import text

    from services.settlement import schema
    from services.settlement.ports import LedgerUnavailable
    from services.settlement.read_model import open_read_model

    with pytest.raises(LedgerUnavailable, match="not usable"):
        open_read_model(database_url)  # nothing migrated yet: the reader does not create the tables
    ledger = open_ledger(database_url, KEY)
    ledger.record_trades(trades(12))
    ledger.anchor_pending()

    def counts() -> dict[str, int]:
        with ledger.engine.connect() as conn:
            return {t.name: conn.execute(text(f"SELECT count(*) FROM {t.name}")).scalar_one()
                    for t in schema.metadata.sorted_tables}

    before = counts()
    reader = open_read_model(database_url)
    assert reader.verify().ok and reader.reconcile().ok and len(reader.trades_for("buyer-0")) == 2
    with reader.engine.connect() as conn, pytest.raises(Exception, match="read-only transaction"):
        conn.execute(text("DELETE FROM ledger_trades"))
    reader.close()
    assert counts() == before
    ledger.close()
