"""Tampering with the chain is caught at the entry that was touched (or the first signature after it)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest

from services.settlement.domain.certificates import Retirement
from services.settlement.domain.chain import ChainHead, Entry, append, canonical_json, entry_hash, header_json
from services.settlement.domain.entries import anchor_draft, retirement_draft, trade_draft
from services.settlement.domain.merkle import merkle_root
from services.settlement.domain.money import FeeSchedule
from services.settlement.domain.postings import TradeFact
from services.settlement.domain.signing import Signer
from services.settlement.domain.verify import PublishedAnchor, anchor_mismatches, verify

AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
SIGNER = Signer.from_bytes(bytes(range(32)))
OTHER = Signer.from_bytes(bytes(32))


def facts(n: int, make) -> list[TradeFact]:
    return [TradeFact.from_event(make(i, buyer=f"b{i % 3}", renewable=i % 2 == 0)) for i in range(1, n + 1)]


def chain_of(trade, n: int = 6, per_entry_signatures: bool = True) -> list[Entry]:
    """n trade entries; each appended (and signed) on its own, or all in one signed batch."""
    drafts = [trade_draft(f, FeeSchedule(), AT) for f in facts(n, trade)]
    head, entries = ChainHead("main"), []
    batches = [[d] for d in drafts] if per_entry_signatures else [drafts]
    for batch in batches:
        new, head = append(head, batch, SIGNER)
        entries += new
    return entries


def with_body(entry: Entry, edit) -> Entry:
    body = json.loads(entry.body_json)
    edit(body)
    return dataclasses.replace(entry, body_json=json.dumps(body, sort_keys=True, separators=(",", ":")))


def rehash_from(entries: list[Entry], start: int) -> list[Entry]:
    """What an attacker without the key can do: recompute every hash from ``start`` on."""
    out = entries[:start]
    prev = out[-1].hash if out else "0" * 64
    for e in entries[start:]:
        h = entry_hash(e.chain, e.seq, e.kind, e.ref, e.slot, e.body_json, prev)
        out.append(dataclasses.replace(e, prev_hash=prev, hash=h))
        prev = h
    return out


def test_untouched_chain_verifies(trade) -> None:
    """A chain as the service wrote it verifies, with one signature per append."""
    report = verify(chain_of(trade), SIGNER.public_key)
    assert report.ok, report.summary()
    assert (report.entries, report.signatures) == (6, 6)


def test_batch_signature_covers_the_whole_batch(trade) -> None:
    """A batch carries one signature, on its last entry, and still verifies."""
    entries = chain_of(trade, per_entry_signatures=False)
    assert [e.signature is not None for e in entries] == [False] * 5 + [True]
    assert verify(entries, SIGNER.public_key).ok


def test_changed_amount_fails_at_that_entry(trade) -> None:
    """Editing a posting's amount breaks that entry's hash."""
    entries = chain_of(trade)
    entries[2] = with_body(entries[2], lambda b: b["postings"][0].__setitem__(2, -1))
    report = verify(entries, SIGNER.public_key)
    assert not report.ok
    assert report.first_bad.seq == 3
    assert "hash" in report.first_bad.reason


def test_consistent_rewrite_fails_at_next_signature(trade) -> None:
    """Rehashing the rest of a batch after an edit is caught by the batch's signature, naming the suspects."""
    entries = chain_of(trade, per_entry_signatures=False)
    entries[2] = with_body(entries[2], lambda b: b["trade"].__setitem__("price", "1.00"))
    report = verify(rehash_from(entries, 2), SIGNER.public_key)
    assert report.first_bad.seq == 3  # body no longer matches its own postings
    entries = chain_of(trade, per_entry_signatures=False)
    entries[2] = with_body(entries[2], lambda b: b.__setitem__("at", "2020-01-01T00:00:00+00:00"))
    report = verify(rehash_from(entries, 2), SIGNER.public_key)
    assert (report.first_bad.seq, report.first_bad.suspect_from) == (6, 1)
    assert "signature" in report.first_bad.reason


def test_deleted_entry_fails_at_the_gap(trade) -> None:
    """Dropping entry 3 is reported at the entry that now sits in its place."""
    entries = chain_of(trade)
    del entries[2]
    report = verify(entries, SIGNER.public_key)
    assert (report.first_bad.position, report.first_bad.seq) == (2, 4)
    assert "missing" in report.first_bad.reason


def test_reordered_entries_fail_at_the_first_swapped(trade) -> None:
    """Swapping entries 2 and 3 is reported at position 1."""
    entries = chain_of(trade)
    entries[1], entries[2] = entries[2], entries[1]
    report = verify(entries, SIGNER.public_key)
    assert (report.first_bad.position, report.first_bad.seq) == (1, 3)


def test_reordered_and_renumbered_entries_break_the_links(trade) -> None:
    """Swapping two entries and their sequence numbers still breaks the hash links."""
    entries = chain_of(trade)
    a, b = entries[1], entries[2]
    entries[1], entries[2] = dataclasses.replace(b, seq=2), dataclasses.replace(a, seq=3)
    report = verify(entries, SIGNER.public_key)
    assert report.first_bad.seq == 2
    assert "predecessor" in report.first_bad.reason


def test_swapped_signatures_fail_at_the_first(trade) -> None:
    """Exchanging the signatures of entries 2 and 4 fails at entry 2."""
    entries = chain_of(trade)
    s2, s4 = entries[1].signature, entries[3].signature
    entries[1] = dataclasses.replace(entries[1], signature=s4)
    entries[3] = dataclasses.replace(entries[3], signature=s2)
    report = verify(entries, SIGNER.public_key)
    assert report.first_bad.seq == 2
    assert "signature" in report.first_bad.reason


def test_unsigned_tail_is_refused(trade) -> None:
    """Entries appended after the last signature (by someone without the key) are not vouched for."""
    entries = chain_of(trade, n=3)
    extra, _ = append(ChainHead("main", 3, entries[-1].hash), [trade_draft(
        TradeFact.from_event(trade(99)), FeeSchedule(), AT)], SIGNER)
    forged = dataclasses.replace(extra[0], signature=None, key_id=None)
    report = verify([*entries, forged], SIGNER.public_key)
    assert report.first_bad.seq == 4
    assert "not covered" in report.first_bad.reason


def test_foreign_key_is_not_trusted(trade) -> None:
    """A chain signed by another key fails against the service's public key."""
    report = verify(chain_of(trade), OTHER.public_key)
    assert report.first_bad.seq == 1
    assert "untrusted" in report.first_bad.reason


def test_same_trade_twice_is_refused_even_if_signed(trade) -> None:
    """Verification rejects a second entry for a trade id, whoever signed it."""
    draft = trade_draft(TradeFact.from_event(trade(1)), FeeSchedule(), AT)
    entries, _ = append(ChainHead("main"), [draft], SIGNER)
    # the unique (kind, ref) constraint forbids this in the store; the verifier does not rely on it
    twice, _ = append(ChainHead("main", 1, entries[0].hash), [dataclasses.replace(draft)], SIGNER)
    report = verify(entries + twice, SIGNER.public_key)
    assert report.first_bad.seq == 2
    assert "twice" in report.first_bad.reason


def test_certificate_retired_twice_is_refused(trade) -> None:
    """A second retirement of one certificate fails at the second retirement."""
    fact = TradeFact.from_event(trade(1, buyer="b", renewable=True))
    slot = fact.slot.isoformat()
    ret = Retirement("REC-t1", "b", "2026", 1500)
    drafts = [trade_draft(fact, FeeSchedule(), AT), retirement_draft(ret, slot, AT), retirement_draft(ret, slot, AT)]
    entries, _ = append(ChainHead("main"), drafts, SIGNER)
    report = verify(entries, SIGNER.public_key)
    assert report.first_bad.seq == 3
    assert "already retired" in report.first_bad.reason


@pytest.mark.parametrize(("who", "problem"), [("someone-else", "belongs to"), ("b", None)])
def test_only_the_owner_retires(trade, who, problem) -> None:
    """A retirement by anyone but the certificate's owner fails verification."""
    fact = TradeFact.from_event(trade(1, buyer="b", renewable=True))
    drafts = [trade_draft(fact, FeeSchedule(), AT),
              retirement_draft(Retirement("REC-t1", who, "2026", 1500), fact.slot.isoformat(), AT)]
    entries, _ = append(ChainHead("main"), drafts, SIGNER)
    report = verify(entries, SIGNER.public_key)
    assert report.ok is (problem is None)
    if problem:
        assert problem in report.first_bad.reason


def test_anchor_must_match_the_slot(trade) -> None:
    """An anchor whose root differs from the slot's entries fails; the true root passes."""
    entries = chain_of(trade, n=4)
    slot = entries[0].slot
    good = merkle_root([e.hash for e in entries])
    for root, ok in ((good, True), ("ab" * 32, False)):
        anchor, _ = append(ChainHead("main", 4, entries[-1].hash), [anchor_draft(slot, root, 4, AT)], SIGNER)
        report = verify(entries + anchor, SIGNER.public_key)
        assert report.ok is ok
        assert report.anchors == (1 if ok else 0)


@pytest.mark.parametrize("text", ["main", 'quo"te', "back\\slash", "tab\tnew\nline", "駅前 solar", "\x00\x1f"])
def test_header_is_canonical_json(text: str) -> None:
    """The hand-written entry header is byte-for-byte the canonical JSON of the same list."""
    for slot in (None, text):
        fields = [text, 42, "trade", text, slot, "ab" * 32]
        assert header_json(*fields).encode() == canonical_json(fields)


def test_published_anchors_catch_a_rewrite_by_the_key_holder(trade) -> None:
    """A history rewritten and re-signed with the real key passes verify, but not the anchors held outside."""
    drafts = [trade_draft(f, FeeSchedule(), AT) for f in facts(4, trade)]
    honest, _ = append(ChainHead("main"), drafts, SIGNER)
    slot = honest[0].slot
    published = [PublishedAnchor(slot, merkle_root([e.hash for e in honest]), 4)]
    assert anchor_mismatches(honest, published) == []
    forged_drafts = [*drafts[:2], dataclasses.replace(drafts[2], body={**drafts[2].body, "at": "2020-01-01"}),
                     drafts[3]]
    forged, _ = append(ChainHead("main"), forged_drafts, SIGNER)
    assert verify(forged, SIGNER.public_key).ok
    (problem,) = anchor_mismatches(forged, published)
    assert "do not match the published root" in problem
    assert anchor_mismatches(honest[:3], published) == [f"slot {slot}: anchor covers 4 entries, ledger has 3"]


def test_tip_only_mode_checks_content_and_the_final_signature(trade) -> None:
    """Checking only each chain's last signature still catches edits, gaps and a forged tip."""
    entries = chain_of(trade)
    report = verify(entries, SIGNER.public_key, every_signature=False)
    assert report.ok and report.signatures == 1
    edited = list(entries)
    edited[2] = with_body(edited[2], lambda b: b["postings"][0].__setitem__(2, -1))
    assert verify(edited, SIGNER.public_key, every_signature=False).first_bad.seq == 3
    forged = [*entries[:-1], dataclasses.replace(entries[-1], signature=entries[0].signature)]
    bad = verify(forged, SIGNER.public_key, every_signature=False).first_bad
    assert (bad.seq, bad.suspect_from) == (6, 1)
    assert not verify(entries, OTHER.public_key, every_signature=False).ok
