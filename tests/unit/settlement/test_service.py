"""The settlement service on the bus, over the in-memory fake of its Ledger port: receipts for new trades,
the same receipts again for redeliveries (nothing written twice), anchors on a timer."""

from services.settlement.service import build_service
from shared.bus import dispatch
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
