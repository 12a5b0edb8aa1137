"""Logistics on the Ebina drive network with a hand-set clock: parcels assigned, refused, returned."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.logistics.domain.fees import FeeRule, delivery_fee
from services.logistics.service import LogisticsService, LogisticsSettings, build_service
from services.settlement.memory import InMemoryLedger
from services.settlement.service import build_service as settlement
from shared.bus.inprocess import InProcessBus
from shared.contracts.base import Envelope
from shared.contracts.logistics import (
    ASSIGNMENTS,
    REQUESTS,
    DeliveryFailed,
    ParcelAssigned,
    ParcelDelivered,
    ParcelRequested,
    ParcelReturned,
    ParcelUndeliverable,
)

TOKYO = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 12, 1, 11, 0, tzinfo=TOKYO)
HOMES = [(35.4580, 139.3967), (35.4510, 139.3912), (35.4470, 139.3850), (35.4600, 139.3830)]


def parcel(pid: str, home: tuple[float, float], hours: float = 3, weight: float = 2.0) -> ParcelRequested:
    return ParcelRequested(parcel_id=pid, sender="shop-1", depot="lalaport", lat=home[0], lon=home[1],
                           deliver_from=START, deliver_until=START + timedelta(hours=hours), weight_kg=weight,
                           size_l=10)


def send(svc, payload):
    handle = svc.on_failed if isinstance(payload, DeliveryFailed) else svc.on_request
    return [o.payload for o in handle(Envelope.wrap(payload, "test"), payload)]


def test_parcels_are_assigned_in_their_windows_and_replanned_as_they_come(network):
    """Every parcel gets a courier and a hand-over time inside its window; a later parcel re-plans the round."""
    svc = LogisticsService(network, clock=lambda: START)
    out = []
    for k, home in enumerate(HOMES):
        out += send(svc, parcel(f"p{k}", home))
    latest = {a.parcel_id: a for a in out if isinstance(a, ParcelAssigned)}
    assert set(latest) == {f"p{k}" for k in range(4)}
    assert all(START <= a.planned_at <= START + timedelta(hours=3) for a in latest.values())
    assert max(a.plan_revision for a in latest.values()) == 4
    assert send(svc, parcel("p0", HOMES[0])) == [svc.planned["p0"]]  # redelivered: the same assignment


def test_impossible_parcels_are_refused_with_the_reason(network):
    """Too heavy, a window already closed, an unknown depot: each is undeliverable with its reason (no co-owned
    car here: the Leaf would carry the 99 kg)."""
    svc = LogisticsService(network, LogisticsSettings(coowned=()), clock=lambda: START)
    heavy = send(svc, parcel("h", HOMES[0], weight=99.0))
    svc2 = LogisticsService(network, clock=lambda: START + timedelta(hours=5))
    late = send(svc2, parcel("l", HOMES[1], hours=1))
    unknown = send(svc, parcel("u", HOMES[2]).model_copy(update={"depot": "nowhere"}))
    assert "heavier" in heavy[-1].reason and isinstance(heavy[-1], ParcelUndeliverable)
    assert "closed" in late[-1].reason
    assert "not served" in unknown[-1].reason


def test_failed_delivery_returns_with_the_couriers_reason(network):
    """A DeliveryFailed sends the parcel back to its depot with the reason, once: a redelivered failure gets the
    same return again (it may never have been published), and a failure with another reason changes nothing."""
    svc = LogisticsService(network, clock=lambda: START)
    send(svc, parcel("p", HOMES[0]))
    failed = DeliveryFailed(parcel_id="p", courier="courier-lalaport-1", reason="nobody home")
    back = send(svc, failed)
    assert back == [ParcelReturned(parcel_id="p", sender="shop-1", depot="lalaport", reason="nobody home")]
    assert send(svc, failed) == back
    assert send(svc, failed.model_copy(update={"reason": "wrong address"})) == back


def test_fees_grow_per_started_kilogram_and_the_payout_is_a_share_rounded_down():
    assert delivery_fee(0.3) == (380, 304) and delivery_fee(2.0) == (410, 328) and delivery_fee(2.01) == (440, 352)
    assert delivery_fee(5, FeeRule(base_yen=0, per_kg_yen=0)) == (0, 0)
    with pytest.raises(ValueError, match="payout share"):
        FeeRule(payout_share=1.5)


def test_a_delivered_parcel_is_billed_to_its_sender_once_on_the_ledger(network):
    """When the hand-over time has passed, the parcel leaves the open set with ParcelDelivered (fee, payout);
    settlement books it as a delivery_fee entry: the sender pays, the depot's couriers get the payout, once."""
    now = [START]
    logistics = build_service(network, clock=lambda: now[0])
    ledger = InMemoryLedger()
    bus = InProcessBus([logistics, settlement(ledger)])
    bus.publish(REQUESTS, parcel("p-fee", HOMES[0], weight=2.0))
    bus.run_until_idle()
    (planned,) = [a for a in bus.events(ASSIGNMENTS) if isinstance(a, ParcelAssigned)]
    now[0] = planned.planned_at + timedelta(minutes=1)
    bus.tick()
    bus.tick()  # a second pass delivers nothing more
    bus.run_until_idle()
    delivered = [a for a in bus.events(ASSIGNMENTS) if isinstance(a, ParcelDelivered)]
    assert [(d.parcel_id, d.sender, d.operator, d.fee_yen, d.payout_yen) for d in delivered] == [
        ("p-fee", "shop-1", "ebina-couriers", 410, 328)]
    assert delivered[0].delivered_at == planned.planned_at
    assert [(p["kind"], p["net_yen"]) for p in ledger.statement("shop-1").payments] == [("delivery_fee", "-410.00")]
    assert ledger.verify().ok and not bus.dead_letters
