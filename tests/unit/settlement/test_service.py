"""The settlement service on the bus, over the in-memory fake of its Ledger port: receipts for new trades,
the same receipts again for redeliveries (nothing written twice), anchors on a timer."""

from datetime import UTC, date, datetime
from decimal import Decimal

from services.settlement.service import build_service
from shared.bus import dispatch
from shared.contracts import charging, incentives, mobility
from shared.contracts.base import Envelope
from shared.contracts.codec import encode
from shared.contracts.energy import TRADES, GateClosed
from shared.contracts.ledger import ANCHORS, RECEIPTS, RETIREMENTS, CertificateRetirementRequested


def deliver(service, payload, topic=TRADES):
    envelope = Envelope.wrap(payload, "market")
    return service.handle(topic, envelope, envelope.body())


def test_new_trade_yields_two_receipts_and_redelivery_repeats_them(fake_ledger, trade) -> None:
    """A trade gives buyer and seller receipts; the same trade again writes nothing and repeats the receipts."""
    service = build_service(fake_ledger)
    assert service.name == "settlement"
    out = deliver(service, trade(1))
    assert [(o.topic.name, o.payload.participant) for o in out] == [
        (RECEIPTS.name, "ev-owner-b"), (RECEIPTS.name, "pv-owner-a")]
    again = deliver(service, trade(1))
    assert [o.payload for o in again] == [o.payload for o in out]
    assert fake_ledger.trade_count() == 1


def test_batch_with_a_repeat_settles_once_and_answers_both(fake_ledger, trade) -> None:
    """A batch holding the same trade twice writes one entry and answers each delivery with the receipts."""
    service = build_service(fake_ledger)
    envelope = Envelope.wrap(trade(2), "market")
    first, second = service.batch_handlers[TRADES]([(envelope, envelope.body())] * 2)
    assert [o.payload for o in first] == [o.payload for o in second] and len(first) == 2
    assert fake_ledger.trade_count() == 1


def test_timer_publishes_slot_anchors(fake_ledger, trade) -> None:
    """The anchor timer publishes one LedgerAnchor per slot with new entries, then nothing."""
    service = build_service(fake_ledger, anchor_interval_s=1.0)
    deliver(service, trade(1))
    (timer,) = service.timers
    (anchor,) = list(timer.tick())
    assert anchor.topic == ANCHORS and anchor.payload.entries == 1
    assert list(timer.tick()) == []


def test_other_payloads_on_the_trade_topic_are_dead_lettered(fake_ledger, trade) -> None:
    """Something that is not a trade on energy.trades does not decode there: a dead letter, nothing written."""
    service = build_service(fake_ledger)
    raw = encode(Envelope.wrap(GateClosed(slot=trade(0).slot), "market"))
    result = dispatch.deliver(service, TRADES.name, raw)
    assert result.dead_letter_reason and "not carried by energy.trades" in result.dead_letter_reason
    assert fake_ledger.trade_count() == 0


def test_retirement_requests_are_answered_on_receipts(fake_ledger, trade) -> None:
    """A retirement request is accepted once for the owner (idempotently) and refused for anyone else."""
    service = build_service(fake_ledger)
    deliver(service, trade(1))
    ask = CertificateRetirementRequested(cert_id="REC-t1", participant="ev-owner-b", target="FY2026")
    (ok,) = deliver(service, ask, RETIREMENTS)
    (again,) = deliver(service, ask, RETIREMENTS)
    assert ok.topic == RECEIPTS and ok.payload.accepted and again.payload == ok.payload
    thief = CertificateRetirementRequested(cert_id="REC-t1", participant="pv-owner-a", target="FY2026")
    (refused,) = deliver(service, thief, RETIREMENTS)
    assert not refused.payload.accepted and "no certificate REC-t1 held by pv-owner-a" in refused.payload.reason
    assert fake_ledger.verify().ok


def test_payments_of_other_services_are_entries_once(fake_ledger) -> None:
    """A campaign's launch funds its account, a redeemed offer pays its reward, a completed ride its fare, a
    finished charging transaction its bill; redeliveries write nothing; other payloads there are ignored."""
    at = datetime(2026, 12, 2, 8, 10, tzinfo=UTC)
    launched = incentives.CampaignLaunched(
        campaign_id="c-1", operator="ebina-station-area", day=date(2026, 12, 2), goal_kind="cut_load",
        place="odakyu_gates", window=("07:30", "08:30"), share=0.1, daily_budget_yen=20_000, guard_yen=60_000,
        offers=(incentives.CatalogueOffer(offer_id="early30", kind="shift_earlier", reward_yen=150, shift_min=30),))
    reward = incentives.RewardRedeemed(code="AB12CD", offer_id="o-1", campaign_id="c-1", operator="ebina-station-area",
                                       user="home-1", reward_yen=150, redeemer="cafe-1", at=at)
    ride = mobility.RideCompleted(request_id="r-1", rider="home-2", vehicle="shuttle-1", operator="ebina-shuttle",
                                  fare_yen=500, payout_yen=400, dropped_off_at=at)
    bill = charging.ChargingBilled(charger="ebina-station-ev/cp-01", transaction_id=7, vehicle="ev-3",
                                   participant="home-3", site="ebina-station-ev", kwh=Decimal("12.5"),
                                   fee_yen_per_kwh=Decimal("10"), stopped_at=at)
    service = build_service(fake_ledger)
    deliveries = [(incentives.CAMPAIGNS, launched), (incentives.REDEMPTIONS, reward), (mobility.ASSIGNMENTS, ride),
                  (charging.BILLS, bill)]
    for topic, payload in deliveries * 2:
        assert deliver(service, payload, topic) == []
    ignored = incentives.RedemptionRefused(code="AB12CD", redeemer="cafe-2", reason="already redeemed by cafe-1")
    assert deliver(service, ignored, incentives.REDEMPTIONS) == []
    assert [fake_ledger.entry(k, r) is not None for k, r in [
        ("campaign_fund", "c-1:2026-12-02"), ("reward", "AB12CD"), ("fare", "r-1"),
        ("charging_bill", "ebina-station-ev/cp-01:7")]] == [True] * 4
    assert fake_ledger.verify().ok
    assert [p["net_yen"] for p in fake_ledger.statement("home-1").payments] == ["150.00"]
    assert [p["net_yen"] for p in fake_ledger.statement("home-3").payments] == ["-125.00"]
