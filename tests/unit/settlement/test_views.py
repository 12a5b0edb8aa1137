"""Read views expose one participant's data, or aggregates for the operator, and no way to write."""

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


def test_views_have_no_write_methods(tmp_path, trade) -> None:
    """Neither view offers record, retire or anchor; the operator sees only aggregates."""
    reader = open_reader(f"sqlite:///{tmp_path / 'l.db'}")
    for view in (reader.participant("p"), reader.operator()):
        assert not any(hasattr(view, name) for name in ("record_trade", "retire_certificate", "anchor_pending"))
    assert reader.operator().slot_totals() == [] and reader.operator().verify().ok
    reader.close()
