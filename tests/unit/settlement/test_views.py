"""Read views expose one participant's data, or aggregates for the operator, and cannot write at all."""

import hashlib
import sqlite3

import pytest

from services.settlement.ports import LedgerUnavailable, NotFound
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader, open_reader


def test_participant_view_is_scoped(ledger, trade) -> None:
    """A participant's view lists only their trades and certificates."""
    ledger.record_trades([trade(1), trade(2, buyer="neighbour")])
    reader = LedgerReader(ledger)
    mine = reader.participant("ev-owner-b")
    assert [t["trade_id"] for t in mine.trades()] == ["t1"]
    assert [c["trade_id"] for c in mine.certificates()] == ["t1"]
    assert [line.trade_id for line in mine.statement().lines] == ["t1"]
    assert str(mine.balance().kwh) == "1.500"
    with pytest.raises(NotFound):
        mine.certificate("REC-t2")  # the neighbour's reads as missing
    with pytest.raises(NotFound):
        mine.inclusion_proof("t2")


def test_views_have_no_write_methods(tmp_path, trade) -> None:
    """Neither view offers record, retire or anchor; the operator sees only aggregates."""
    open_ledger(f"sqlite:///{tmp_path / 'l.db'}").close()
    reader = open_reader(f"sqlite:///{tmp_path / 'l.db'}")
    for view in (reader.participant("p"), reader.operator()):
        assert not any(hasattr(view, name) for name in ("record_trade", "retire_certificate", "anchor_pending"))
    assert reader.operator().slot_totals() == [] and reader.operator().verify().ok
    reader.close()


def _digest(path) -> str:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_opening_a_reader_writes_nothing(tmp_path, trade) -> None:
    """A reader migrates nothing, registers no key or chain and inserts no row; its connection refuses writes."""
    path = tmp_path / "l.db"
    writer = open_ledger(f"sqlite:///{path}", bytes(range(32)))
    writer.record_trade(trade(1))
    writer.close()
    before = _digest(path)
    reader = open_reader(f"sqlite:///{path}")
    assert [t["trade_id"] for t in reader.participant("ev-owner-b").trades()] == ["t1"]
    assert reader.operator().verify().ok and reader.operator().reconcile().ok
    with reader._ledger.engine.connect() as conn, pytest.raises(Exception, match=r"readonly|read-only"):
        conn.exec_driver_sql("DELETE FROM ledger_trades")
    reader.close()
    assert _digest(path) == before


@pytest.mark.parametrize("url", ["sqlite:///{tmp}/missing.sqlite", "sqlite:///{tmp}/empty.sqlite"])
def test_missing_or_empty_ledger_is_unavailable_and_not_created(tmp_path, url) -> None:
    """A missing file is not created and an empty one is not migrated: both are 'no ledger here'."""
    (tmp_path / "empty.sqlite").touch()
    with pytest.raises(LedgerUnavailable, match="not usable"):
        open_reader(url.format(tmp=tmp_path))
    assert not (tmp_path / "missing.sqlite").exists()
    assert (tmp_path / "empty.sqlite").stat().st_size == 0
