"""The SQLite-backed ledger: exactly-once recording, scoped reads, certificates, anchors, verification."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.settlement import schema
from services.settlement.domain.kinds.trade import NAME as TRADE
from services.settlement.domain.merkle import verify_inclusion
from services.settlement.domain.money import FeeSchedule
from services.settlement.domain.signing import Signer
from services.settlement.migrate import VERSION_TABLE
from services.settlement.ports import NotFound, NotYetAnchored
from services.settlement.store import open_ledger


def test_redelivered_trade_posts_once(ledger, trade) -> None:
    """Recording the same trade three times writes one entry and one set of postings."""
    first = ledger.record_trade(trade(1))
    assert first is not None
    assert ledger.record_trade(trade(1)) is None
    assert ledger.record_trades([trade(1), trade(1)]) == [None, None]
    assert ledger.trade_count() == 1
    assert len(list(ledger.entries())) == 1
    assert ledger.balance("ev-owner-b").yen == Decimal("-42.65")
    assert ledger.reconcile().ok


def test_batch_with_duplicates_settles_each_trade_once(ledger, trade) -> None:
    """A batch that repeats a trade and contains an old one records only the new trades, once each."""
    ledger.record_trade(trade(1))
    results = ledger.record_trades([trade(1), trade(2), trade(3), trade(2)])
    assert [r is not None for r in results] == [False, True, True, False]
    assert ledger.trade_count() == 3
    assert [e.seq for e in ledger.entries()] == [1, 2, 3]
    assert ledger.verify().ok


def test_receipts_name_both_sides_and_the_entry(ledger, trade) -> None:
    """Receipts carry the entry's seq and hash and what each side's account moved by."""
    result = ledger.record_trade(trade(1))
    buyer, seller = result.receipts()
    assert (buyer.participant, buyer.amount_yen) == ("ev-owner-b", Decimal("-42.65"))
    assert (seller.participant, seller.amount_yen) == ("pv-owner-a", Decimal("38.00"))
    assert buyer.entry_hash == seller.entry_hash == next(ledger.entries()).hash


def test_trades_for_is_scoped_and_shaped(ledger, trade) -> None:
    """A participant sees only their own trades, with string decimals and their role."""
    ledger.record_trade(trade(1))
    ledger.record_trade(trade(2, seller="someone", buyer="other"))
    rows = [row.to_json() for row in ledger.trades_for("ev-owner-b")]
    assert rows == [{
        "trade_id": "t1", "slot": "2026-11-27T00:00:00+00:00", "seller": "pv-owner-a", "buyer": "ev-owner-b",
        "kwh": "1.500", "price": "25.33", "amount_yen": "38.00", "tier": "B", "renewable": True, "role": "buyer",
    }]
    assert [r.role for r in ledger.trades_for("pv-owner-a")] == ["seller"]
    assert ledger.trades_for("nobody") == []


def test_platform_fee_reaches_the_statement(trade) -> None:
    """With a platform fee, the seller's statement shows it and the net proceeds."""
    ledger = open_ledger("sqlite://", bytes(range(32)), fees=FeeSchedule(Decimal("0.20")))
    ledger.record_trade(trade(1))
    totals = ledger.statement("pv-owner-a").totals
    assert (totals["energy_yen"], totals["platform_fee_yen"], totals["net_yen"]) == ("38.00", "-0.30", "37.70")
    assert ledger.balance("pv-owner-a").yen == Decimal("37.70")
    ledger.close()


def test_certificate_retires_once_by_its_owner(ledger, trade) -> None:
    """The buyer of renewable kWh owns a certificate naming the source; it retires once, by the owner."""
    ledger.record_trade(trade(1))
    (cert,) = ledger.certificates("ev-owner-b")
    assert (cert.source_site, str(cert.kwh), cert.retired) == ("ebina-roof-7", "1.500", False)
    thief = ledger.retire_certificate(cert.cert_id, "pv-owner-a", "2026 target")
    assert not thief.accepted and thief.decision.refusal.value == "not_owner" and thief.entry is None
    assert "held by pv-owner-a" in thief.decision.reason
    first = ledger.retire_certificate(cert.cert_id, "ev-owner-b", "2026 target")
    assert first.accepted and first.entry is not None
    again = ledger.retire_certificate(cert.cert_id, "ev-owner-b", "2026 target")  # redelivery
    assert again.accepted and again.decision.repeat and again.entry == first.entry
    other = ledger.retire_certificate(cert.cert_id, "ev-owner-b", "another target")
    assert other.decision.refusal.value == "already_retired" and "'2026 target'" in other.decision.reason
    missing = ledger.retire_certificate("REC-nope", "ev-owner-b", "2026 target")
    assert missing.decision.refusal.value == "missing"
    assert len(list(ledger.entries())) == 2
    assert ledger.certificates("ev-owner-b")[0].retired_target == "2026 target"
    assert ledger.renewable_progress("ev-owner-b") == {"2026 target": Decimal("1.500")}
    assert ledger.statement("ev-owner-b").retired[0]["cert_id"] == cert.cert_id
    assert ledger.verify().ok


def test_anchor_per_slot_and_again_after_late_trades(ledger, trade) -> None:
    """Each slot is anchored once; a late trade for a slot triggers a new anchor with more entries."""
    ledger.record_trades([trade(1), trade(2), trade(3, slot=trade(0).slot + timedelta(minutes=30))])
    anchors = ledger.anchor_pending()
    assert sorted(a.entries for a in anchors) == [1, 2]
    assert ledger.anchor_pending() == []
    ledger.record_trade(trade(4))
    (late,) = ledger.anchor_pending()
    assert late.entries == 3
    report = ledger.verify()
    assert report.ok and report.anchors == 3


def test_inclusion_proof_ties_a_trade_to_its_anchor(ledger, trade) -> None:
    """An anchored trade gets a Merkle proof against its slot's anchor; before the anchor it gets none."""
    ledger.record_trades([trade(i) for i in range(1, 6)])
    with pytest.raises(NotYetAnchored, match="not under a published anchor"):
        ledger.inclusion_proof(TRADE, "t3")
    (anchor,) = ledger.anchor_pending()
    proof = ledger.inclusion_proof(TRADE, "t3")
    assert proof.anchor.merkle_root == anchor.merkle_root and proof.size == 5
    assert verify_inclusion(proof.entry.hash, proof.index, proof.size, proof.proof, anchor.merkle_root)
    assert proof.entry.recomputed_hash() == proof.entry.hash
    with pytest.raises(NotFound):
        ledger.inclusion_proof(TRADE, "t-nope")


def test_retirement_is_anchored_with_its_slot(ledger, trade) -> None:
    """A retirement becomes a leaf of its certificate's slot: the next anchor covers it, with the target."""
    ledger.record_trade(trade(1))
    (first,) = ledger.anchor_pending()
    ledger.retire_certificate("REC-t1", "ev-owner-b", "FY2026")
    (second,) = ledger.anchor_pending()
    assert (first.entries, second.entries) == (1, 2)
    proof = ledger.inclusion_proof("retirement", "REC-t1")
    assert proof.entry.body["target"] == "FY2026"
    assert verify_inclusion(proof.entry.hash, proof.index, proof.size, proof.proof, second.merkle_root)
    assert ledger.verify().ok


def test_statement_totals_and_html(ledger, trade) -> None:
    """A statement sums a period's lines, and its HTML escapes participant-provided text."""
    ledger.record_trade(trade(1))
    ledger.record_trade(trade(2, slot=trade(0).slot + timedelta(hours=1), seller="<b>x</b>"))
    start = trade(0).slot
    whole = ledger.statement("ev-owner-b")
    first = ledger.statement("ev-owner-b", start, start + timedelta(minutes=30))
    assert whole.totals["net_yen"] == "-85.30" and len(whole.lines) == 2
    assert first.totals["net_yen"] == "-42.65" and len(first.lines) == 1
    assert "&lt;b&gt;x&lt;/b&gt;" in whole.to_html() and "<b>x</b>" not in whole.to_html()


def test_operator_totals_are_aggregates(ledger, trade) -> None:
    """Slot totals add up trades, kWh and fees without naming participants."""
    ledger.record_trades([trade(1), trade(2)])
    (row,) = [r.to_json() for r in ledger.slot_totals()]
    assert row == {"slot": "2026-11-27T00:00:00+00:00", "trades": 2, "kwh": "3.000", "energy_yen": "76.00",
                   "wheeling_yen": "9.30", "platform_fee_yen": "0.00"}


def test_tampered_row_is_named_by_verify_and_reconcile(tmp_path, trade) -> None:
    """Editing a stored body or a posting row directly in the database is caught."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = open_ledger(url, bytes(range(32)))
    ledger.record_trades([trade(i) for i in range(1, 5)])
    ledger.close()
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        db.execute("UPDATE ledger_entries SET body = replace(body, '-3800', '-3700') WHERE seq = 2")
        db.execute("UPDATE ledger_postings SET amount = amount + 1 WHERE seq = 3 AND idx = 0")
    ledger = open_ledger(url)
    report = ledger.verify(Signer.from_bytes(bytes(range(32))).public_key)
    assert report.first_bad.seq == 2
    problems = ledger.reconcile().problems
    assert any(p.startswith("main#3: postings table") for p in problems)
    ledger.close()


def test_reopened_file_ledger_continues_the_chain(tmp_path, trade) -> None:
    """Closing and reopening continues the same chain, and verification covers both sessions."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    for batch in ([trade(1), trade(2)], [trade(2), trade(3)]):
        ledger = open_ledger(url, bytes(range(32)), fees=FeeSchedule(Decimal("0.10")))
        ledger.record_trades(batch)
        ledger.close()
    ledger = open_ledger(url)
    assert [e.seq for e in ledger.entries() if e.kind == TRADE] == [1, 2, 3]
    assert ledger.verify().ok and ledger.reconcile().ok
    ledger.close()


def test_migrations_build_the_schema_the_code_queries() -> None:
    """Alembic's migrated schema matches the SQLAlchemy metadata the store uses."""
    ledger = open_ledger("sqlite://")
    with ledger.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}),
                                schema.metadata)
    ledger.close()
    assert diff == []


def test_concurrent_writers_on_a_sqlite_file_do_not_fork_the_chain(tmp_path, trade) -> None:
    """Three workers redelivering overlapping trades into one SQLite file settle each trade once, gap-free."""
    import threading

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    open_ledger(url, bytes(range(32))).close()
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        ledger = open_ledger(url, bytes(range(32)))
        try:
            for i in range(1, 41):
                ledger.record_trade(trade((i * (k + 1)) % 40 + 1))
                ledger.trades_for("ev-owner-b")  # readers interleave with writers
        except BaseException as exc:
            errors.append(exc)
        finally:
            ledger.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    ledger = open_ledger(url)
    assert errors == []
    assert ledger.trade_count() == 40
    assert [e.seq for e in ledger.entries()] == list(range(1, 41))
    assert ledger.verify().ok
    ledger.close()


def test_a_trade_settles_once_even_across_chains(tmp_path, trade) -> None:
    """With a chain per worker, a trade already on one chain is not recorded again on another."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    east = open_ledger(url, bytes(range(32)), chain="east")
    west = open_ledger(url, bytes(range(32)), chain="west")
    assert east.record_trades([trade(1), trade(2)])[0] is not None
    assert west.record_trades([trade(2), trade(3)])[0] is None
    assert {e.chain: e.seq for e in east.entries()} == {"east": 2, "west": 1}
    assert east.trade_count() == 3
    assert east.verify().ok and east.reconcile().ok
    east.close()
    west.close()


def test_reconcile_catches_edited_query_tables(tmp_path, trade) -> None:
    """Rows edited in the trades or certificates tables (which readers see) no longer match the chain."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = open_ledger(url, bytes(range(32)))
    ledger.record_trades([trade(i) for i in range(1, 4)])
    assert ledger.reconcile().ok
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        db.execute("UPDATE ledger_trades SET price_sen = 100 WHERE trade_id = 't1'")
        db.execute("UPDATE ledger_certificates SET retired_seq = 9, retired_target = 'x' WHERE trade_id = 't2'")
        db.execute("DELETE FROM ledger_certificates WHERE trade_id = 't3'")
    assert sorted(ledger.reconcile().problems) == [
        "ledger_certificates: REC-t2 differs from its entry in retired_seq, retired_target",
        "ledger_certificates: REC-t3 is missing",
        "ledger_trades: t1 differs from its entry in price_sen",
    ]
    assert ledger.verify().ok  # the chain itself is intact
    ledger.close()
