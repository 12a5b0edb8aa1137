"""The market cross-check names each slot whose trades differ between energy.trades and the ledger."""

from __future__ import annotations

from services.settlement.domain.market_match import match

A, B, C = "2026-12-01T10:00:00+00:00", "2026-12-01T10:30:00+00:00", "2026-12-01T11:00:00+00:00"


def test_agreeing_sides_are_ok():
    both = {A: {"t1", "t2"}, B: {"t3"}}
    report = match(both, {k: set(v) for k, v in both.items()})
    assert report.ok and report.differences == [] and report.market_trades == report.ledger_trades == 3


def test_missing_and_unexpected_trades_are_named_with_their_slot_and_counts():
    market = {A: {"t1", "t2"}, B: {"t3", "t4", "t5"}}
    ledger = {A: {"t1", "t2"}, B: {"t3"}, C: {"t9"}}
    report = match(market, ledger)
    assert not report.ok and report.slots == 3
    by_slot = {d.slot: d for d in report.differences}
    assert set(by_slot) == {B, C}
    assert (by_slot[B].market, by_slot[B].ledger, by_slot[B].missing) == (3, 1, ["t4", "t5"])
    assert (by_slot[C].market, by_slot[C].ledger, by_slot[C].unexpected) == (0, 1, ["t9"])
    assert "market published 3 trades, ledger holds 1" in by_slot[B].describe()
    assert report.to_json()["differences"][0]["slot"] == B
