"""Co-owned cars as ride vehicles: lent only in the hours their members left free, each ride's trip (carport, pick-up,
drop-off, back) held in the group's book as the fleet's booking, and both rebuilt from the topics after a restart."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.mobility.coowned import CoownedGroups, default_groups
from services.mobility.domain.coownership.bookings import FLEET, Booking
from services.mobility.service import MobilityService, build_service
from services.mobility.settings import TOKYO, MobilitySettings, VehicleSpec
from shared.contracts.base import Envelope
from shared.contracts.mobility import (
    ASSIGNMENTS,
    COOWNED,
    REQUESTS,
    CoownedBookingAnswered,
    CoownedBookingRequested,
    RideAnswered,
    RideCompleted,
    RideRequested,
    VehiclePlanned,
)
from shared.roads import load_drive_network

GROUP = "ebina-kashiwa-ev"
MORNING = datetime(2026, 12, 1, 8, 0, tzinfo=TOKYO)
CARPORT = (35.4524839, 139.3949914)   # LF72, where the group's cars start
LALAPORT = (35.45528, 139.38917)


@pytest.fixture(scope="module")
def network():
    return load_drive_network()


def fleet_settings() -> MobilitySettings:
    """One co-owned car at its carport and a taxi far from it (the car wins a ride from the carport)."""
    return MobilitySettings(fleet=(VehicleSpec("ev-leaf", "coowned", 4, ("ref", "LF72"), GROUP),
                                   VehicleSpec("taxi-1", "taxi", 4, ("ref", "KD03"), "taxi-operator-1")))


def ride(rid: str, start: datetime, origin=CARPORT, destination=LALAPORT) -> RideRequested:
    return RideRequested(request_id=rid, rider=f"rider-{rid}", origin_lat=origin[0], origin_lon=origin[1],
                         destination_lat=destination[0], destination_lon=destination[1], earliest_pickup=start,
                         latest_arrival=start + timedelta(hours=1))


def member(bid: str, who: str, start: datetime, hours: float, car: str = "ev-leaf") -> CoownedBookingRequested:
    return CoownedBookingRequested(booking_id=bid, group=GROUP, member=who, car=car, start=start,
                                   end=start + timedelta(hours=hours))


def env(payload) -> Envelope:
    return Envelope.wrap(payload, "test")


def make(network) -> tuple[MobilityService, CoownedGroups]:
    groups = CoownedGroups(default_groups())
    return MobilityService(network, fleet_settings(), clock=lambda: MORNING, coowned=groups), groups


# baba has the other car all day, so a member refused the leaf has no car to fall back on
SAKURA = member("sakura", "baba", MORNING - timedelta(hours=2), 14, car="ev-sakura")


def test_a_ride_on_the_car_is_held_in_the_book_and_a_member_cannot_take_it_back(network):
    svc, groups = make(network)
    assert groups.on_booking(env(SAKURA), SAKURA)[0].payload.accepted
    p = ride("r1", MORNING + timedelta(minutes=30))
    out = svc.on_request(env(p), p)
    answer = next(o.payload for o in out if isinstance(o.payload, RideAnswered))
    [hold] = [o.payload for o in out if o.topic is COOWNED]
    assert answer.accepted and answer.vehicle == "ev-leaf"
    assert isinstance(hold, CoownedBookingAnswered) and hold.member == FLEET and hold.car == "ev-leaf"
    assert hold.booking_id == "ride:r1" and hold.distance_m > 0
    assert hold.start <= answer.pickup_from and answer.planned_dropoff < hold.end
    # a member asking for the car across the ride's hold is refused, naming the ride's booking
    overlap = member("m1", "aoki", hold.end - timedelta(minutes=5), 2, car="ev-leaf")
    [refused] = groups.on_booking(env(overlap), overlap)
    assert not refused.payload.accepted and refused.payload.car is None
    assert "a ride/delivery job" in refused.payload.reason and "booking ride:r1" in refused.payload.reason
    # ... and gets the car once the hold and its turnaround are over
    just = member("m2", "aoki", hold.end + timedelta(minutes=14), 1)
    assert not groups.on_booking(env(just), just)[0].payload.accepted
    after = member("m3", "aoki", hold.end + timedelta(minutes=15), 1)
    assert groups.on_booking(env(after), after)[0].payload.car == "ev-leaf"


def test_a_members_booking_shrinks_the_cars_hours_at_once(network):
    svc, groups = make(network)
    booked = member("m1", "baba", MORNING, 3)
    assert groups.on_booking(env(booked), booked)[0].payload.accepted
    p = ride("r1", MORNING + timedelta(minutes=30))
    out = svc.on_request(env(p), p)
    assert out[0].payload.accepted and out[0].payload.vehicle == "taxi-1"
    assert not [o for o in out if o.topic is COOWNED]  # nothing held: the car was never planned
    assert svc.dispatcher.fleet[0].stops == []


def test_the_book_has_the_last_word_when_it_knows_more_than_the_cars_hours(network):
    """A hold the car's plan does not show (left by a worker that stopped before publishing its plan): the book
    refuses the trip, the acceptance is withdrawn and the ride goes to another vehicle."""
    svc, groups = make(network)
    month = groups._month(groups.groups[GROUP], "2026-12")
    assert month.book.book(Booking("ride:old", FLEET, "ev-leaf", 8 * 60, 10 * 60)) is None
    p = ride("r1", MORNING + timedelta(minutes=30))
    out = svc.on_request(env(p), p)
    assert out[0].payload.accepted and out[0].payload.vehicle == "taxi-1"
    assert svc.dispatcher.fleet[0].stops == [] and "r1" not in {s.request for s in svc.dispatcher.fleet[0].stops}
    assert [b.id for b in month.book.bookings("ev-leaf")] == ["ride:old"]


def test_replaying_both_topics_rebuilds_the_hold_and_the_plan_once(network):
    """A restarted service fed mobility.assignments and mobility.coowned has the car's plan and its hold; a member
    still cannot take the ride's hours, and the ride redelivered gets its first answer and the same hold."""
    first = build_service(network, fleet_settings(), clock=lambda: MORNING)
    p = ride("r1", MORNING + timedelta(minutes=30))
    published = first.handle(COOWNED, env(SAKURA), SAKURA) + first.handle(REQUESTS, env(p), p)
    topics = {ASSIGNMENTS: [o.payload for o in published if o.topic is ASSIGNMENTS],
              COOWNED: [SAKURA, *(o.payload for o in published if o.topic is COOWNED)]}
    hold = topics[COOWNED][-1]
    assert hold.member == FLEET

    second = build_service(network, fleet_settings(), clock=lambda: MORNING)
    for topic, payloads in topics.items():
        for payload in payloads:
            second.handle(topic, env(payload), payload)
    overlap = member("m1", "aoki", hold.start, 1)
    [refused] = second.handle(COOWNED, env(overlap), overlap)
    assert not refused.payload.accepted and "booking ride:r1" in refused.payload.reason
    again = second.handle(REQUESTS, env(p), p)
    assert [o.payload for o in again] == [topics[ASSIGNMENTS][0], hold]
    plans = [o for o in topics[ASSIGNMENTS] if isinstance(o, VehiclePlanned)]
    assert len(plans) == 1 and plans[0].vehicle == "ev-leaf"


def test_replay_keeps_the_hold_a_member_request_waiting_on_the_topic_lost_to(network):
    """Live, the ride's hold was taken while a member's request for the same hours still waited on the topic (so
    it landed there first, and was refused). Replayed in topic order the request would win; the published answers
    decide instead, and the book ends as it was live."""
    live = build_service(network, fleet_settings(), clock=lambda: MORNING)
    [sakura] = [o.payload for o in live.handle(COOWNED, env(SAKURA), SAKURA)]
    p = ride("r1", MORNING + timedelta(minutes=30))
    outs = live.handle(REQUESTS, env(p), p)
    [hold] = [o.payload for o in outs if o.topic is COOWNED]
    request = member("m1", "aoki", hold.start, 1)
    [answer] = [o.payload for o in live.handle(COOWNED, env(request), request)]
    assert not answer.accepted
    topic = [SAKURA, sakura, request, hold, answer]  # the order they were written in

    groups = CoownedGroups(default_groups())
    handlers = {CoownedBookingRequested: groups.on_booking, CoownedBookingAnswered: groups.on_answer}
    for payload in topic:
        handlers[type(payload)](env(payload), payload)
    book = groups.months[(GROUP, "2026-12")].book
    assert [(b.id, b.member) for b in book.bookings("ev-leaf")] == [("ride:r1", FLEET)]
    assert not groups.answers["m1"].accepted
    assert book.bookings("ev-leaf")[0].distance_m == hold.distance_m


def test_the_rides_payout_is_the_groups(network):
    svc, groups = make(network)
    p = ride("r1", MORNING + timedelta(minutes=30))
    svc.on_request(env(p), p)
    svc.clock = lambda: MORNING + timedelta(hours=2)
    [done] = [o.payload for o in svc.tick() if isinstance(o.payload, RideCompleted)]
    assert done.vehicle == "ev-leaf" and done.operator == GROUP and done.payout_yen > 0
    car = svc.dispatcher.fleet[0]
    assert car.place == car.home
    [credit] = groups.on_ride(env(done), done)
    assert credit.payload.credit_sen == done.payout_yen * 100
