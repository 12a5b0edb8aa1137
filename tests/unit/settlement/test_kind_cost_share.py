"""``cost_share`` on the ledger: a co-owning group's period split, each member's bill against the group's account;
refused naming the field and the rule, balanced, once per group and period (also when Kafka redelivers it)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from services.settlement.domain.chain import ChainHead, Draft, append
from services.settlement.domain.kinds.cost_share import NAME, CostShare, MemberShare
from services.settlement.domain.kinds.payments import payment_draft
from services.settlement.domain.kinds.registry import KINDS
from services.settlement.domain.postings import JPY, Posting, imbalance, net_for, participant_account
from services.settlement.domain.signing import Signer
from services.settlement.ports import Ledger
from services.settlement.service import build_service
from shared.contracts import mobility
from shared.contracts.base import Envelope

END = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # 2026-12-01 00:00 in Japan
AT = datetime(2026, 12, 1, 0, 5, tzinfo=UTC)


def member(name: str, inst: int, ins: int, energy: int, fleet: int, credit: int, wh: int = 9000,
           pv: int = 6000) -> MemberShare:
    return MemberShare(name, 600, 60_000, wh, pv, inst, ins, energy, fleet, credit)


def split(**changes: Any) -> CostShare:
    members = (member("aoki", 700_000, 60_000, 13_500, 1_637, 250_000),
               member("baba", 300_000, 40_000, 4_000, 819, 125_000))
    fact = CostShare("ebina-ev-coop", "2026-11", END, 1_000_000, 100_000, 17_500, 2_456, 375_000, members)
    return replace(fact, **changes)


def test_postings_balance_and_charge_each_member_their_bill() -> None:
    fact = split()
    rows = [Posting.from_json(r) for r in fact.legs()]
    assert imbalance(rows) == {}
    assert net_for(rows, participant_account("aoki")) == -(700_000 + 60_000 + 13_500 + 1_637 - 250_000)
    assert net_for(rows, "group:ebina-ev-coop") == sum(m.bill_sen for m in fact.members)
    assert {r.kind for r in rows} == {"cost_share", "fleet_credit"} and {r.commodity for r in rows} == {JPY}


def test_a_member_paid_more_than_they_owe_receives_it() -> None:
    fact = split(credit_sen=1_375_000, members=(
        member("aoki", 700_000, 60_000, 13_500, 1_637, 1_250_000),
        member("baba", 300_000, 40_000, 4_000, 819, 125_000)))
    assert fact.members[0].bill_sen < 0 and fact.problem() is None
    assert net_for([Posting.from_json(r) for r in fact.legs()], participant_account("aoki")) > 0


@pytest.mark.parametrize(("changes", "message"), [
    ({"members": ()}, "cost_share members must not be empty"),
    ({"instalment_sen": 999_999}, "members' instalment_sen sum to 1000000, not the group's instalment_sen 999999"),
    ({"credit_sen": 0}, "members' credit_sen sum to 375000, not the group's credit_sen 0"),
    ({"members": (member("aoki", -1, 0, 0, 0, 0),)}, "cost_share member aoki instalment_sen must not be negative"),
    ({"members": (member("aoki", 0, 0, 0, 0, 0, wh=10, pv=11),)}, "member aoki renewable_wh must not exceed wh"),
    ({"members": (member("aoki", 0, 0, 0, 0, 0), member("aoki", 0, 0, 0, 0, 0))}, "each once"),
    ({"group": ""}, "group and period must not be empty"),
])
def test_a_split_that_breaks_a_rule_is_refused_naming_the_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        payment_draft(NAME, split(**changes), AT)


def test_ref_slot_and_parties() -> None:
    draft = payment_draft(NAME, split(), AT)
    assert (draft.ref, draft.slot) == ("ebina-ev-coop:2026-11", "2026-11-30T15:00:00+00:00")
    assert KINDS[NAME].parties(draft.body) == {"aoki", "baba"}


def test_verify_names_an_edited_bill_even_when_rebalanced() -> None:
    """A member's energy halved in the body (and the group's total with it, so the sums still hold) leaves postings
    that no longer follow from the fact: verify names the entry."""
    signer = Signer.from_bytes(bytes(range(32)))
    good = payment_draft(NAME, split(), AT)
    body = good.body
    fact = dict(body["fact"])
    fact["members"] = [dict(fact["members"][0], energy_sen=6_750, bill_sen=fact["members"][0]["bill_sen"] - 6_750),
                       fact["members"][1]]
    fact["energy_sen"] = 17_500 - 6_750
    entries, _ = append(ChainHead("main"), [Draft(NAME, good.ref, good.slot, {**body, "fact": fact})], signer)
    from services.settlement.domain.verify import verify

    report = verify(entries, signer.public_key)
    assert not report.ok and "postings do not follow from the cost_share" in report.first_bad.reason
    bad_bill = {**body, "fact": {**body["fact"], "members": [dict(body["fact"]["members"][0], bill_sen=1),
                                                             body["fact"]["members"][1]]}}
    entries, _ = append(ChainHead("main"), [Draft(NAME, good.ref, good.slot, bad_bill)], signer)
    assert "bill_sen must be charges minus credit" in verify(entries, signer.public_key).first_bad.reason


def test_recorded_once_verified_and_on_each_statement(any_ledger: Ledger) -> None:
    draft = payment_draft(NAME, split(), AT)
    assert any_ledger.record([draft]) != [None]
    assert any_ledger.record([draft]) == [None]
    assert any_ledger.verify().ok
    payments = any_ledger.statement("baba").payments
    assert [(p["kind"], p["ref"], p["net_yen"]) for p in payments] == [("cost_share", "ebina-ev-coop:2026-11",
                                                                        "-2198.19")]


def event() -> mobility.CostShareSettled:
    fact = split()
    return mobility.CostShareSettled(
        group=fact.group, period=fact.period, period_end=fact.period_end, instalment_sen=fact.instalment_sen,
        insurance_sen=fact.insurance_sen, energy_sen=fact.energy_sen, fleet_energy_sen=fact.fleet_energy_sen,
        credit_sen=fact.credit_sen, members=tuple(mobility.MemberCostShare(
            member=m.member, use_min=m.use_min, distance_m=m.distance_m, wh=m.wh, renewable_wh=m.renewable_wh,
            instalment_sen=m.instalment_sen, insurance_sen=m.insurance_sen, energy_sen=m.energy_sen,
            fleet_energy_sen=m.fleet_energy_sen, credit_sen=m.credit_sen) for m in fact.members))


def test_settlement_books_a_redelivered_split_once(fake_ledger) -> None:
    """From mobility.cost_shares, as fares and delivery fees come: the second delivery writes nothing."""
    service = build_service(fake_ledger)
    envelope = Envelope.wrap(event(), "mobility")
    for _ in range(2):
        assert service.handle(mobility.COST_SHARES, envelope, envelope.body()) == []
    assert fake_ledger.entry(NAME, "ebina-ev-coop:2026-11") is not None
    assert len([e for e in fake_ledger.entries() if e.kind == NAME]) == 1
    assert fake_ledger.verify().ok


def test_the_contract_refuses_a_split_that_does_not_sum() -> None:
    good = event()
    with pytest.raises(ValueError, match="members' credit_sen sum to 375000, not 1"):
        mobility.CostShareSettled(**{**good.model_dump(), "credit_sen": 1})
