from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.market.adapters.community_yaml import load_community
from services.market.domain.acks import AckTracker, Owed
from services.market.service import build_service
from shared.bus.inprocess import InProcessBus
from shared.contracts.energy import (
    DISPATCH,
    DISPATCH_ACKS,
    ORDERS,
    DispatchAcknowledged,
    DispatchMissed,
    DispatchSetpoint,
    EnergyOrderPlaced,
    GateClosed,
)
from shared.units import slot_start

SLOT = datetime(2030, 5, 1, 3, 0, tzinfo=UTC)


def owed(device: str) -> Owed:
    return Owed(device, "home-01", SLOT, Decimal("1.0"), ("t1",))


def test_acknowledged_set_point_is_never_missed():
    """A confirmed set-point is not reported; an unconfirmed one is reported once, after slot end + grace."""
    tracker = AckTracker(grace=timedelta(minutes=5))
    tracker.issued(owed("home-01/battery"))
    tracker.issued(owed("home-01/ev"))
    assert tracker.acknowledged("home-01/battery", SLOT)
    assert tracker.overdue(SLOT + timedelta(minutes=34)) == []  # slot ends at +30, grace 5
    assert [o.device for o in tracker.overdue(SLOT + timedelta(minutes=35))] == ["home-01/ev"]
    assert tracker.overdue(SLOT + timedelta(hours=5)) == []


def test_late_acknowledgement_and_unknown_ones_are_harmless():
    """An acknowledgement after the miss was reported, or for nothing owed, changes nothing."""
    tracker = AckTracker()
    tracker.issued(owed("d"))
    assert len(tracker.overdue(SLOT + timedelta(hours=1))) == 1
    assert not tracker.acknowledged("d", SLOT)
    assert not tracker.acknowledged("other", SLOT)
    tracker.issued(owed("d"))  # a replayed set-point of a settled slot is not owed again
    assert tracker.pending() == []


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def test_market_reports_set_points_that_no_device_confirmed():
    """After clearing, devices that confirm are quiet; the others appear as DispatchMissed on energy.dispatch."""
    community = load_community("higashi_fuji")
    slot = slot_start(datetime.now(UTC)) + timedelta(hours=6)
    clock = Clock(slot - timedelta(hours=1))
    service = build_service(community.market_settings(admit_unregistered=True), clock=clock)
    bus = InProcessBus([service])
    homes = [m.participant_id for m in community.members if m.battery][:2]
    bus.publish(ORDERS, EnergyOrderPlaced(order_id="s", participant="visitor-pv", side="sell", slot=slot,
                                                   kwh="2.0", limit_price="5"))
    for home in homes:
        bus.publish(ORDERS, EnergyOrderPlaced(order_id=f"b-{home}", participant=home, side="buy", slot=slot,
                                                       kwh="1.0", limit_price="25"))
    bus.publish(ORDERS, GateClosed(slot=slot))
    bus.run_until_idle()
    setpoints = [e for e in bus.events(DISPATCH) if isinstance(e, DispatchSetpoint)]
    assert sorted(sp.participant for sp in setpoints) == sorted(homes)
    first, *rest = setpoints
    bus.publish(DISPATCH_ACKS, DispatchAcknowledged(device=first.device, participant=first.participant,
                                                             slot=slot, kwh_applied=first.kwh))
    bus.run_until_idle()
    clock.now = slot + timedelta(minutes=40)
    bus.tick()
    bus.run_until_idle()
    missed = [e for e in bus.events(DISPATCH) if isinstance(e, DispatchMissed)]
    assert rest and sorted(m.device for m in missed) == sorted(sp.device for sp in rest)
    assert all(m.trade_ids for m in missed)
