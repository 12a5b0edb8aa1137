"""Both adapters of the Ledger port (SQL on SQLite, and the in-memory fake) give the same answers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from services.settlement.domain.kinds.retirement import NAME as RETIREMENT
from services.settlement.domain.kinds.trade import NAME as TRADE
from services.settlement.domain.merkle import verify_inclusion
from services.settlement.memory import InMemoryLedger
from services.settlement.ports import NotFound, NotYetAnchored
from services.settlement.store import open_ledger

KEY = bytes(range(32))


def _day(ledger, trade) -> None:
    ledger.record_trades([trade(1), trade(2, buyer="neighbour"), trade(3, renewable=False)])
    ledger.record_trade(trade(4, slot=trade(0).slot + timedelta(minutes=30), seller="ev-owner-b", buyer="shop"))
    ledger.anchor_pending()
    ledger.retire_certificate("REC-t1", "ev-owner-b", "FY2026")
    ledger.anchor_pending()


def test_record_is_exactly_once(any_ledger, trade) -> None:
    """A trade recorded again, alone or inside a batch, writes nothing and reads back the same receipts."""
    first = any_ledger.record_trade(trade(1))
    assert any_ledger.record_trades([trade(1), trade(2), trade(2)])[0::2] == [None, None]
    assert any_ledger.recorded(trade(1)) == first
    assert any_ledger.trade_count() == 2 and [e.seq for e in any_ledger.entries()] == [1, 2]


def test_reads_are_scoped_and_typed(any_ledger, trade) -> None:
    """Trades, certificates, balance and progress answer for one participant, in typed rows."""
    _day(any_ledger, trade)
    rows = any_ledger.trades_for("ev-owner-b")
    assert [(r.trade_id, r.role) for r in rows] == [("t1", "buyer"), ("t3", "buyer"), ("t4", "seller")]
    assert isinstance(rows[0].kwh, Decimal) and rows[0].slot == trade(0).slot
    assert [c.cert_id for c in any_ledger.certificates("ev-owner-b")] == ["REC-t1"]
    assert any_ledger.certificate("REC-t1").retired_target == "FY2026"
    assert any_ledger.renewable_progress("ev-owner-b") == {"FY2026": Decimal("1.500")}
    assert any_ledger.balance("neighbour").kwh == Decimal("1.500")
    assert any_ledger.verify().ok and any_ledger.reconcile().ok


def test_both_adapters_agree(trade) -> None:
    """The same calls on the SQL adapter and on the fake give equal rows, statements, anchors and proof shapes
    (entry hashes differ: each adapter stamps its own recording time)."""
    sql = open_ledger("sqlite://", KEY)
    fake = InMemoryLedger(sql.signer)
    for ledger in (sql, fake):
        _day(ledger, trade)
    for who in ("ev-owner-b", "neighbour", "pv-owner-a", "shop"):
        assert sql.trades_for(who) == fake.trades_for(who)
        assert sql.certificates(who) == fake.certificates(who)
        assert sql.balance(who) == fake.balance(who)
        assert sql.statement(who).totals == fake.statement(who).totals
    assert sql.slot_totals() == fake.slot_totals()
    assert [(a.slot, a.entries) for a in sql.anchors()] == [(a.slot, a.entries) for a in fake.anchors()]
    for kind, ref in ((TRADE, "t2"), (RETIREMENT, "REC-t1")):
        a, b = sql.inclusion_proof(kind, ref), fake.inclusion_proof(kind, ref)
        assert (a.index, a.size, len(a.proof), a.entry.ref) == (b.index, b.size, len(b.proof), b.entry.ref)
    sql.close()


def test_proofs_check_against_the_anchor(any_ledger, trade) -> None:
    """Every anchored entry proves inclusion under its slot's latest anchor; unanchored ones say so."""
    _day(any_ledger, trade)
    latest = {a.slot: a for a in any_ledger.anchors()}
    for ref in ("t1", "t2", "t3", "t4"):
        proof = any_ledger.inclusion_proof(TRADE, ref)
        root = latest[proof.anchor.slot].merkle_root
        assert verify_inclusion(proof.entry.recomputed_hash(), proof.index, proof.size, proof.proof, root)
    any_ledger.record_trade(trade(5))
    with pytest.raises(NotYetAnchored):
        any_ledger.inclusion_proof(TRADE, "t5")
    with pytest.raises(NotFound):
        any_ledger.inclusion_proof(TRADE, "nope")


def test_retirement_decisions(any_ledger, trade) -> None:
    """Missing, not yours, twice: each refused with its reason; the owner's repeat returns the same entry."""
    any_ledger.record_trade(trade(1))
    refusals = {who_target: any_ledger.retire_certificate(cert, *who_target).decision.refusal
                for cert, who_target in (("REC-x", ("ev-owner-b", "T")), ("REC-t1", ("pv-owner-a", "T")))}
    assert [r.value for r in refusals.values()] == ["missing", "not_owner"]
    first = any_ledger.retire_certificate("REC-t1", "ev-owner-b", "T")
    assert first.accepted and any_ledger.retire_certificate("REC-t1", "ev-owner-b", "T").entry == first.entry
    assert any_ledger.retire_certificate("REC-t1", "ev-owner-b", "U").decision.refusal.value == "already_retired"
    assert len(list(any_ledger.entries())) == 2
