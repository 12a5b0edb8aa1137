"""The settlement service on the bus: trades and payments in, receipts and slot anchors out.

The handler only translates: decode the trade, hand it to the ledger, turn the result into receipts. A
redelivered trade writes nothing and publishes nothing. Participants' requests to retire a renewable
certificate (``ledger.retirements``) are answered on ``ledger.receipts``. Payments of the other services
become entries of their own kinds: a campaign's launch funds its account (each revision of its guard funds
the change), a redeemed offer pays its reward, a completed ride its fare, a delivered parcel its fee, a
finished charging transaction its bill, a co-owning group's period split its members' bills (one entry per
reference, ever). A timer publishes a Merkle anchor for every slot that has gained entries since its last
anchor.

Exactly once from Kafka: each trade is settled in one database transaction (entry, postings,
certificate, chain head) keyed by its trade id; the transport commits the offset only after the outputs
are acknowledged. A crash before the commit means redelivery: a redelivered trade writes nothing and its
receipts are published again from the ledger, with the same event ids (they derive from the input's),
so receipts lost in the crash still arrive and consumers can drop the repeats.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from services.settlement.anchor_file import AnchorFile
from services.settlement.domain.chain import Draft
from services.settlement.domain.kinds.charging_bill import NAME as CHARGING_BILL
from services.settlement.domain.kinds.charging_bill import ChargingBill
from services.settlement.domain.kinds.cost_share import NAME as COST_SHARE
from services.settlement.domain.kinds.cost_share import CostShare
from services.settlement.domain.kinds.delivery_fee import NAME as DELIVERY_FEE
from services.settlement.domain.kinds.delivery_fee import DeliveryFee
from services.settlement.domain.kinds.fare import NAME as FARE
from services.settlement.domain.kinds.fare import Fare
from services.settlement.domain.kinds.payments import payment_draft
from services.settlement.domain.kinds.reward import FUNDING, REWARD, CampaignFunding, Reward
from services.settlement.domain.money import SEN_PER_YEN
from services.settlement.ports import Ledger
from shared.contracts import charging, incentives, logistics, mobility
from shared.contracts.base import Envelope
from shared.contracts.energy import TRADES, TradeMatched
from shared.contracts.ledger import ANCHORS, RECEIPTS, RETIREMENTS, CertificateRetired, CertificateRetirementRequested
from shared.runtime import Outgoing, Service, Timer, ignore

log = logging.getLogger(__name__)


def build_service(ledger: Ledger, anchor_interval_s: float = 5.0, anchor_file: AnchorFile | None = None) -> Service:
    """A ``Service`` named "settlement" that records each trade once and anchors slots periodically.

    ``ledger`` is any adapter of the ``Ledger`` port: ``store.open_ledger`` (SQL) or ``memory.InMemoryLedger``.
    With ``anchor_file``, every anchor is also appended to that public file (the copy outsiders keep).
    """

    def on_trade(envelope: Envelope, payload: TradeMatched) -> Iterable[Outgoing]:
        result = ledger.record_trade(payload)
        if result is None:
            log.info("trade %s already on the ledger; repeating its receipts", payload.trade_id)
            result = ledger.recorded(payload)
        return [Outgoing(RECEIPTS, receipt) for receipt in result.receipts()]

    def on_trades(batch: list[tuple[Envelope, TradeMatched]]) -> list[list[Outgoing]]:
        """Many trades in one transaction and one signature (the Kafka adapter hands over whole batches)."""
        trades = [p for _, p in batch]  # energy.trades carries TradeMatched only (checked on decode)
        out: list[list[Outgoing]] = []
        for payload, result in zip(trades, ledger.record_trades(trades), strict=True):
            result = result or ledger.recorded(payload)  # a repeat: the same receipts again
            out.append([Outgoing(RECEIPTS, r) for r in result.receipts()])
        return out

    def on_retirement(envelope: Envelope, payload: CertificateRetirementRequested) -> Iterable[Outgoing]:
        answer = {"cert_id": payload.cert_id, "participant": payload.participant, "target": payload.target}
        outcome = ledger.retire_certificate(payload.cert_id, payload.participant, payload.target)
        if not outcome.accepted or outcome.entry is None:
            return [Outgoing(RECEIPTS, CertificateRetired(**answer, accepted=False, reason=outcome.decision.reason))]
        return [Outgoing(RECEIPTS, CertificateRetired(**answer, accepted=True, entry_seq=outcome.entry.seq,
                                                      entry_hash=outcome.entry.hash))]

    def pay(draft: Draft) -> list[Outgoing]:
        """Record one payment entry; a redelivery (its ``(kind, ref)`` already there) writes nothing."""
        if ledger.record([draft]) == [None]:
            log.info("%s %s already on the ledger", draft.kind, draft.ref)
        return []

    def on_campaign(envelope: Envelope, payload: incentives.CampaignLaunched) -> Iterable[Outgoing]:
        """The sponsor funds the campaign's account with its guard: the most its open offers could cost."""
        return pay(payment_draft(FUNDING, CampaignFunding(
            payload.campaign_id, payload.operator, payload.day, payload.guard_yen * SEN_PER_YEN,
            envelope.occurred_at), envelope.occurred_at))

    def on_revised(envelope: Envelope, payload: incentives.CampaignRevised) -> Iterable[Outgoing]:
        """A revised guard: the sponsor funds the rise, or gets the fall back (the campaign service refused any
        guard below what the campaign could owe); once per revision number, like the service counts it."""
        if payload.funding_change_yen == 0:
            return []
        return pay(payment_draft(FUNDING, CampaignFunding(
            payload.campaign_id, payload.operator, payload.day, payload.funding_change_yen * SEN_PER_YEN,
            envelope.occurred_at, revision=payload.revision), envelope.occurred_at))

    def on_reward(envelope: Envelope, payload: incentives.RewardRedeemed) -> Iterable[Outgoing]:
        return pay(payment_draft(REWARD, Reward.from_event(payload), envelope.occurred_at))

    def on_ride(envelope: Envelope, payload: mobility.RideCompleted) -> Iterable[Outgoing]:
        return pay(payment_draft(FARE, Fare.from_event(payload), envelope.occurred_at))

    def on_delivery(envelope: Envelope, payload: logistics.ParcelDelivered) -> Iterable[Outgoing]:
        return pay(payment_draft(DELIVERY_FEE, DeliveryFee.from_event(payload), envelope.occurred_at))

    def on_cost_share(envelope: Envelope, payload: mobility.CostShareSettled) -> Iterable[Outgoing]:
        """A co-owning group's period: each member's bill against the group, once per group and period."""
        return pay(payment_draft(COST_SHARE, CostShare.from_event(payload), envelope.occurred_at))

    def on_bill(envelope: Envelope, payload: charging.ChargingBilled) -> Iterable[Outgoing]:
        bill = ChargingBill.metered(payload.charger, payload.transaction_id, payload.participant, payload.site,
                                    payload.kwh, payload.fee_yen_per_kwh, payload.stopped_at)
        return pay(payment_draft(CHARGING_BILL, bill, envelope.occurred_at))

    def anchor() -> Iterable[Outgoing]:
        """One tick: anchor what is pending, then bring the public file up to date (both safe to repeat)."""
        anchors = ledger.anchor_pending()
        if anchor_file is not None:
            anchor_file.publish(ledger)
        return [Outgoing(ANCHORS, a) for a in anchors]

    # A database outage must not push trades to the dead-letter topic (they would never settle): retry.
    handlers = {
        TRADES: {TradeMatched: on_trade},
        RETIREMENTS: {CertificateRetirementRequested: on_retirement},
        incentives.CAMPAIGNS: {incentives.CampaignLaunched: on_campaign, incentives.CampaignStopped: ignore,
                               incentives.CampaignRoundPlanned: ignore, incentives.CampaignRevised: on_revised,
                               incentives.CampaignPaused: ignore, incentives.CampaignResumed: ignore,
                               incentives.CampaignRevisionRequested: ignore,
                               incentives.CampaignRevisionRefused: ignore},
        incentives.REDEMPTIONS: {incentives.RewardRedeemed: on_reward, incentives.RedemptionRequested: ignore,
                                 incentives.RedemptionRefused: ignore},
        mobility.ASSIGNMENTS: {mobility.RideCompleted: on_ride, mobility.RideAnswered: ignore,
                               mobility.VehiclePlanned: ignore, mobility.VehicleWindowsOffered: ignore,
                               mobility.FleetJobAnswered: ignore},
        mobility.COST_SHARES: {mobility.CostShareSettled: on_cost_share},
        charging.BILLS: {charging.ChargingBilled: on_bill},
        logistics.ASSIGNMENTS: {logistics.ParcelDelivered: on_delivery, logistics.ParcelAssigned: ignore,
                                logistics.ParcelUndeliverable: ignore, logistics.ParcelReturned: ignore},
    }
    return Service(name="settlement", handlers=handlers,
                   batch_handlers={TRADES: on_trades}, timers=[Timer(anchor_interval_s, anchor)],
                   retry_forever=True)
