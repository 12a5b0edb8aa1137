"""Rewards, campaign funding, ride fares, delivery fees and charging bills on the ledger: balanced legs, once per
reference, on the participant's statement, provable under their slot's anchor, and refused by verify when edited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from services.settlement.domain.chain import ChainHead, Draft, append
from services.settlement.domain.kinds.charging_bill import NAME as CHARGING_BILL
from services.settlement.domain.kinds.charging_bill import ChargingBill
from services.settlement.domain.kinds.delivery_fee import NAME as DELIVERY_FEE
from services.settlement.domain.kinds.delivery_fee import DeliveryFee
from services.settlement.domain.kinds.fare import NAME as FARE
from services.settlement.domain.kinds.fare import Fare
from services.settlement.domain.kinds.payments import payment_draft, slot_of
from services.settlement.domain.kinds.registry import KINDS
from services.settlement.domain.kinds.reward import FUNDING, REWARD, CampaignFunding, Reward
from services.settlement.domain.postings import JPY, PLATFORM, Posting, imbalance, net_for, participant_account
from services.settlement.domain.signing import Signer
from services.settlement.domain.verify import verify
from services.settlement.ports import Ledger

AT = datetime(2026, 12, 2, 8, 47, tzinfo=UTC)


def reward(code: str = "AB12CD", yen: int = 150, user: str = "home-1") -> Reward:
    event = SimpleNamespace(code=code, offer_id="o-1", campaign_id="c-1", user=user, reward_yen=yen,
                            redeemer="shop-vinawalk", at=AT)
    return Reward.from_event(event)


def fare(payout_yen: int = 400) -> Fare:
    event = SimpleNamespace(request_id="r-9", rider="home-2", vehicle="shuttle-3", operator="ebina-shuttle",
                            fare_yen=500, payout_yen=payout_yen, dropped_off_at=AT)
    return Fare.from_event(event)


def delivery(payout_yen: int = 328) -> DeliveryFee:
    event = SimpleNamespace(parcel_id="parcel-5", sender="shop-lalaport-7", courier="courier-lalaport-1",
                            operator="ebina-couriers", fee_yen=410, payout_yen=payout_yen, delivered_at=AT)
    return DeliveryFee.from_event(event)


def bill() -> ChargingBill:
    return ChargingBill.metered("office-cp-1", 17, "home-3", "office", Decimal("7.345"), Decimal("21.60"), AT)


def drafts() -> list[Draft]:
    funding = CampaignFunding("c-1", "ebina-station", date(2026, 12, 2), 1_000_000, AT - timedelta(hours=2))
    return [payment_draft(FUNDING, funding, AT - timedelta(hours=2)), payment_draft(REWARD, reward(), AT),
            payment_draft(FARE, fare(), AT), payment_draft(CHARGING_BILL, bill(), AT),
            payment_draft(DELIVERY_FEE, delivery(), AT)]


def test_legs_balance_and_round_once() -> None:
    """Every fact's legs sum to zero; a bill is metered kWh x price rounded once (7.345 x 21.60 = 158.652 yen)."""
    for d in drafts():
        assert imbalance([_posting(row) for row in d.body["postings"]]) == {}
    assert bill().amount_sen == 15865
    courier_legs = delivery().legs()
    assert [(r[0], r[2], r[3]) for r in courier_legs] == [
        ("participant:shop-lalaport-7", -41000, "delivery_fee"), ("fleet:ebina-couriers", 32800, "payout"),
        (PLATFORM, 8200, "platform_fee")]
    legs = fare().legs()
    assert net_for([_posting(r) for r in legs], participant_account("home-2")) == -50000
    assert net_for([_posting(r) for r in legs], PLATFORM) == 10000


def test_facts_refuse_what_breaks_their_rules() -> None:
    with pytest.raises(ValueError, match="payout must not exceed"):
        payment_draft(FARE, fare(payout_yen=600), AT)
    with pytest.raises(ValueError, match="delivery fee's payout must not exceed"):
        payment_draft(DELIVERY_FEE, delivery(payout_yen=411), AT)
    with pytest.raises(ValueError, match="positive"):
        payment_draft(REWARD, Reward("X1", "o", "c", "u", 0, "shop", AT), AT)
    with pytest.raises(ValueError, match="time zone"):
        slot_of(datetime(2026, 12, 2, 8, 47))  # noqa: DTZ001 - a naive time is what is refused


def test_a_payment_sits_in_the_slot_it_happened_in() -> None:
    assert {d.slot for d in drafts()[1:]} == {"2026-12-02T08:30:00+00:00"}
    assert drafts()[0].ref == "c-1:2026-12-02"


def test_recorded_once_verified_and_on_the_statement(any_ledger: Ledger) -> None:
    """A redelivery writes nothing; verify passes; the reward, fare and bill are the users' payments."""
    first = any_ledger.record(drafts())
    assert all(e is not None for e in first)
    assert any_ledger.record(drafts()) == [None] * 5
    assert any_ledger.verify().ok
    assert any_ledger.entry(REWARD, "AB12CD").body["fact"]["reward_sen"] == 15000
    payments = any_ledger.statement("home-1").payments
    assert [(p["kind"], p["ref"], p["net_yen"]) for p in payments] == [("reward", "AB12CD", "150.00")]
    assert [p["net_yen"] for p in any_ledger.statement("home-3").payments] == ["-158.65"]
    assert [(p["kind"], p["net_yen"]) for p in any_ledger.statement("shop-lalaport-7").payments] == [
        ("delivery_fee", "-410.00")]


def test_an_edited_amount_is_named_by_verify() -> None:
    """A reward whose legs pay ten times its fact (signed, hashed, balanced) is named by the kind's check."""
    signer = Signer.from_bytes(bytes(range(32)))
    good = payment_draft(REWARD, reward(), AT)
    forged_legs = [[row[0], row[1], row[2] * 10, row[3]] for row in good.body["postings"]]
    forged = Draft(good.kind, good.ref, good.slot, {**good.body, "postings": forged_legs})
    entries, _ = append(ChainHead("main"), [forged], signer)
    report = verify(entries, signer.public_key)
    assert not report.ok and report.first_bad.seq == entries[0].seq
    assert "postings do not follow from the reward" in report.first_bad.reason


def test_each_kind_is_provable_to_its_party(any_ledger: Ledger) -> None:
    """The user the payment concerns is its party (who may read its inclusion proof); sponsors are not users."""
    any_ledger.record(drafts())
    assert any_ledger.entry(FARE, "r-9") is not None
    assert KINDS[REWARD].parties(drafts()[1].body) == {"home-1"}
    assert KINDS[FUNDING].parties(drafts()[0].body) == frozenset()
    assert KINDS[CHARGING_BILL].parties(drafts()[3].body) == {"home-3"}
    assert KINDS[DELIVERY_FEE].parties(drafts()[4].body) == {"shop-lalaport-7"}


def _posting(row: list) -> Posting:
    return Posting.from_json(row)


def test_commodities_are_money_only() -> None:
    assert {row[1] for d in drafts() for row in d.body["postings"]} == {JPY}
