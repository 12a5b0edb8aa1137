"""The public anchors file: every anchor once, in order, appended only, and caught up after a crash."""

from __future__ import annotations

import json
from datetime import timedelta

from services.settlement.anchor_file import AnchorFile
from services.settlement.service import build_service


def test_anchors_are_appended_once_each(any_ledger, trade, tmp_path) -> None:
    """Publishing twice writes each anchor once; a later anchor is appended after the earlier lines."""
    path = tmp_path / "public" / "anchors.jsonl"
    published = AnchorFile(path)
    any_ledger.record_trades([trade(1), trade(2, slot=trade(0).slot + timedelta(minutes=30))])
    any_ledger.anchor_pending()
    assert published.publish(any_ledger) == 2 and published.publish(any_ledger) == 0
    first = path.read_bytes()
    any_ledger.record_trade(trade(3))
    any_ledger.anchor_pending()
    assert published.publish(any_ledger) == 1
    assert path.read_bytes().startswith(first)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["slot"][11:16], r["entries"]) for r in rows] == [("00:00", 1), ("00:30", 1), ("00:00", 2)]
    anchors = {a.seq: a for a in any_ledger.anchors()}
    for row in rows:
        assert anchors[row["anchor_seq"]].merkle_root == row["merkle_root"]
        assert any_ledger.entry("anchor", f"{row['slot']}#{row['entries']}").hash == row["anchor_hash"]


def test_a_torn_last_line_is_dropped_and_rewritten(ledger, trade, tmp_path) -> None:
    """A line cut short by a crash was never published: it is dropped and the anchor written whole again."""
    path = tmp_path / "anchors.jsonl"
    ledger.record_trade(trade(1))
    ledger.anchor_pending()
    AnchorFile(path).publish(ledger)
    whole = path.read_text()
    path.write_text(whole[:-10])
    assert AnchorFile(path).publish(ledger) == 1
    assert path.read_text() == whole


def test_the_settlement_timer_publishes_the_file(fake_ledger, trade, tmp_path) -> None:
    """The anchor timer both emits ledger.anchors and appends to the public file."""
    path = tmp_path / "anchors.jsonl"
    service = build_service(fake_ledger, anchor_file=AnchorFile(path))
    fake_ledger.record_trade(trade(1))
    (timer,) = service.timers
    (out,) = list(timer.tick())
    (line,) = path.read_text().splitlines()
    assert json.loads(line)["merkle_root"] == out.payload.merkle_root
