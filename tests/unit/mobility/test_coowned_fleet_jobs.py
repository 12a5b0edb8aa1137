"""Fleet jobs asked for on the bus (delivery rounds): a CoownedBookingRequested of member "fleet" is booked with
the same rules as a ride's trip (only in the hours members left free, no clash), answered once, and a delivered
parcel's payout on a group car becomes the group's credit like a ride's."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.mobility.coowned import CoownedGroups, default_groups
from services.mobility.domain.coownership.bookings import FLEET
from services.mobility.settings import TOKYO
from shared.contracts.base import Envelope
from shared.contracts.logistics import ParcelDelivered
from shared.contracts.mobility import CoownedBookingAnswered, CoownedBookingRequested, CoownedUsageRecorded

GROUP = "ebina-kashiwa-ev"
NOON = datetime(2026, 12, 1, 12, 0, tzinfo=TOKYO)


def env(payload) -> Envelope:
    return Envelope.wrap(payload, "test")


def request(bid: str, who: str, start: datetime, minutes: int, car: str | None = "ev-leaf",
            group: str = GROUP) -> CoownedBookingRequested:
    return CoownedBookingRequested(booking_id=bid, group=group, member=who, car=car, start=start,
                                   end=start + timedelta(minutes=minutes), distance_m=7_000)


def answer(groups: CoownedGroups, p: CoownedBookingRequested) -> CoownedBookingAnswered:
    [out] = groups.on_booking(env(p), p)
    assert isinstance(out.payload, CoownedBookingAnswered)
    return out.payload


def test_a_fleet_request_in_the_members_free_hours_is_held_and_a_member_cannot_take_it_back():
    groups = CoownedGroups(default_groups())
    held = answer(groups, request("delivery:lalaport:ev-leaf:20261201T1200", FLEET, NOON, 50))
    assert held.accepted and held.member == FLEET and held.car == "ev-leaf" and held.distance_m == 7_000
    assert (held.start, held.end) == (NOON, NOON + timedelta(minutes=50))
    late = answer(groups, request("m1", "aoki", NOON + timedelta(minutes=55), 60))
    assert late.accepted and late.car == "ev-sakura"   # the leaf is held (turnaround included): the other car
    both = answer(groups, request("m2", "baba", NOON + timedelta(minutes=30), 60))
    assert not both.accepted and "delivery:lalaport:ev-leaf" in both.reason


def test_a_fleet_request_over_a_members_booking_or_naming_no_group_car_is_refused():
    groups = CoownedGroups(default_groups())
    assert answer(groups, request("m1", "chiba", NOON, 120)).accepted
    over = answer(groups, request("delivery:d:1", FLEET, NOON + timedelta(minutes=60), 90))
    assert not over.accepted and over.car is None and "only inside the hours members left free" in over.reason
    # right after the member's booking and its turnaround: free again
    after = answer(groups, request("delivery:d:2", FLEET, NOON + timedelta(minutes=135), 60))
    assert after.accepted and after.car == "ev-leaf"
    assert not answer(groups, request("delivery:d:3", FLEET, NOON, 30, car=None)).accepted
    assert not answer(groups, request("delivery:d:4", FLEET, NOON, 30, car="taxi-1")).accepted
    assert not answer(groups, request("delivery:d:5", FLEET, NOON, 30, group="elsewhere")).accepted


def test_a_redelivered_fleet_request_gets_its_first_answer_and_books_nothing_twice():
    groups = CoownedGroups(default_groups())
    p = request("delivery:lalaport:ev-leaf:20261201T1200", FLEET, NOON, 50)
    first = answer(groups, p)
    assert answer(groups, p) == first
    month = groups.months[(GROUP, "2026-12")]
    assert [b.id for b in month.book.bookings("ev-leaf")] == [p.booking_id]
    # the answer read back (our own, or on replay) leaves the book as it is
    assert groups.on_answer(env(first), first) == []
    assert [b.id for b in month.book.bookings("ev-leaf")] == [p.booking_id]


def delivered(parcel: str, courier: str, operator: str, payout: int = 400) -> ParcelDelivered:
    return ParcelDelivered(parcel_id=parcel, sender="shop-1", courier=courier, operator=operator, fee_yen=500,
                           payout_yen=payout, delivered_at=NOON)


def test_a_delivery_payout_to_the_group_is_its_credit_once_and_others_are_not():
    groups = CoownedGroups(default_groups())
    d = delivered("p1", "ev-leaf", GROUP)
    [rec] = [o.payload for o in groups.on_delivery(env(d), d)]
    assert isinstance(rec, CoownedUsageRecorded)
    assert (rec.group, rec.period, rec.ref, rec.car, rec.credit_sen) == (GROUP, "2026-12", "delivery:p1", "ev-leaf",
                                                                       40_000)
    groups.on_usage(env(rec), rec)
    groups.on_usage(env(rec), rec)     # read twice: counted once (by its ref)
    assert groups.months[(GROUP, "2026-12")].credit_sen == {"delivery:p1": 40_000}
    # a courier's parcel, or a group car whose payout went to a courier operator: not the group's credit
    for other in (delivered("p2", "courier-lalaport-1", "ebina-couriers"),
                  delivered("p3", "ev-leaf", "ebina-couriers")):
        assert groups.on_delivery(env(other), other) == []


def test_a_ride_over_a_delivery_rounds_hold_does_not_get_the_car():
    """The dispatcher's windows leave fleet holds out; the book refuses the ride's trip over the round, so the ride
    is decided again without the car (here: the taxi)."""
    from services.mobility.service import MobilityService
    from services.mobility.settings import MobilitySettings, VehicleSpec
    from shared.contracts.mobility import RideAnswered, RideRequested
    from shared.roads import load_drive_network

    groups = CoownedGroups(default_groups())
    settings = MobilitySettings(fleet=(VehicleSpec("ev-leaf", "coowned", 4, ("ref", "LF72"), GROUP),
                                       VehicleSpec("taxi-1", "taxi", 4, ("ref", "KD03"), "taxi-operator-1")))
    svc = MobilityService(load_drive_network(), settings, clock=lambda: NOON - timedelta(minutes=30), coowned=groups)
    assert answer(groups, request("delivery:lalaport:ev-leaf:20261201T1130", FLEET, NOON - timedelta(minutes=30),
                                  150)).accepted
    ride = RideRequested(request_id="r1", rider="rider-1", origin_lat=35.4524839, origin_lon=139.3949914,
                         destination_lat=35.45528, destination_lon=139.38917, earliest_pickup=NOON,
                         latest_arrival=NOON + timedelta(hours=1))
    [got] = [o.payload for o in svc.on_request(env(ride), ride) if isinstance(o.payload, RideAnswered)]
    assert got.vehicle != "ev-leaf"
    assert [b.id for b in groups.months[(GROUP, "2026-12")].book.bookings("ev-leaf")] == [
        "delivery:lalaport:ev-leaf:20261201T1130"]


def test_the_cars_windows_leave_a_delivery_round_out_so_a_rider_is_offered_the_pick_up_after_it():
    """The car's windows leave delivery rounds out (with the turnaround): a ride asked for just after a round is not
    tried on the car over the round (a hold the book would refuse) but answered with the later pick-up the car can
    make, and one asked for after the turnaround gets the car."""
    from services.mobility.service import MobilityService
    from services.mobility.settings import MobilitySettings, VehicleSpec
    from shared.contracts.mobility import COOWNED, RideAnswered, RideRequested
    from shared.roads import load_drive_network

    network = load_drive_network()
    settings = MobilitySettings(fleet=(VehicleSpec("ev-leaf", "coowned", 4, ("ref", "LF72"), GROUP),))

    def ask(minutes: int) -> tuple[RideAnswered, list]:
        groups = CoownedGroups(default_groups())
        svc = MobilityService(network, settings, clock=lambda: NOON - timedelta(minutes=30), coowned=groups)
        assert answer(groups, request("delivery:lalaport:ev-leaf:20261201T1130", FLEET, NOON - timedelta(minutes=30),
                                      60)).accepted
        (_, before), (after, _) = groups.windows("ev-leaf", NOON - timedelta(hours=1), NOON + timedelta(hours=1))
        assert (before, after) == (NOON - timedelta(minutes=45), NOON + timedelta(minutes=45))
        ride = RideRequested(request_id="r1", rider="rider-1", origin_lat=35.4524839, origin_lon=139.3949914,
                             destination_lat=35.45528, destination_lon=139.38917,
                             earliest_pickup=NOON + timedelta(minutes=minutes),
                             latest_arrival=NOON + timedelta(hours=2))
        out = svc.on_request(env(ride), ride)
        [got] = [o.payload for o in out if isinstance(o.payload, RideAnswered)]
        return got, [o.payload for o in out if o.topic is COOWNED]

    early, holds = ask(35)
    assert not early.accepted and holds == []
    assert early.alternative_pickup is not None and early.alternative_pickup >= NOON + timedelta(minutes=45)
    later, holds = ask(45)
    assert later.accepted and later.vehicle == "ev-leaf" and later.pickup_from >= NOON + timedelta(minutes=40)
    assert [h.booking_id for h in holds] == ["ride:r1"]
