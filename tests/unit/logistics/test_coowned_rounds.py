"""Delivery rounds on the co-owned cars over the in-process bus, logistics and mobility each built through its
bootstrap: the round asked for as the fleet's booking on mobility.coowned, held by mobility's book, refused when a
member booked first (then re-planned and assigned again), idempotent on redelivery, rebuilt from the topic after
a restart, and the payout of a delivered parcel credited to the car's group."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.logistics.bootstrap import build_logistics
from services.logistics.service import LogisticsService
from services.mobility.bootstrap import build_mobility
from shared.bus.dispatch import deliver
from shared.bus.inprocess import InProcessBus
from shared.contracts.base import Envelope
from shared.contracts.codec import encode
from shared.contracts.logistics import (
    ASSIGNMENTS,
    REQUESTS,
    DeliveryFailed,
    ParcelAssigned,
    ParcelDelivered,
    ParcelRequested,
    ParcelUndeliverable,
)
from shared.contracts.mobility import (
    COOWNED,
    COST_SHARES,
    CoownedBookingAnswered,
    CoownedBookingCancelled,
    CoownedBookingRequested,
    CoownedPeriodClosed,
    CoownedUsageRecorded,
    CostShareSettled,
)

TOKYO = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 12, 1, 11, 0, tzinfo=TOKYO)
GROUP = "ebina-kashiwa-ev"
HOME = (35.4580, 139.3967)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def stack(network, clock: Clock) -> InProcessBus:
    return InProcessBus([build_mobility(network, clock=clock), build_logistics(network, clock=clock)])


def heavy(pid: str = "p-heavy", kg: float = 70.0, hours: float = 5) -> ParcelRequested:
    """Heavier than a lalaport courier carries (60 kg): only the Leaf (100 kg) can take it."""
    return ParcelRequested(parcel_id=pid, sender="shop-1", depot="lalaport", lat=HOME[0], lon=HOME[1],
                           deliver_from=START, deliver_until=START + timedelta(hours=hours), weight_kg=kg, size_l=80)


def member(bid: str, who: str, start: datetime, hours: float, car: str = "ev-leaf") -> CoownedBookingRequested:
    return CoownedBookingRequested(booking_id=bid, group=GROUP, member=who, car=car, start=start,
                                   end=start + timedelta(hours=hours))


def fleet_requests(bus: InProcessBus) -> list[CoownedBookingRequested]:
    return [e for e in bus.events(COOWNED) if isinstance(e, CoownedBookingRequested) and e.member == "fleet"]


def answers(bus: InProcessBus) -> dict[str, CoownedBookingAnswered]:
    return {e.booking_id: e for e in bus.events(COOWNED) if isinstance(e, CoownedBookingAnswered)}


def latest(bus: InProcessBus) -> dict[str, ParcelAssigned | ParcelUndeliverable]:
    out = {}
    for e in bus.events(ASSIGNMENTS):
        if isinstance(e, (ParcelAssigned, ParcelUndeliverable)):
            out[e.parcel_id] = e
    return out


def test_a_round_on_a_coowned_car_is_held_in_the_groups_book_and_a_member_cannot_take_it_back(network):
    bus = stack(network, Clock(START))
    bus.publish(REQUESTS, heavy())
    bus.run_until_idle()
    [hold] = fleet_requests(bus)
    assert hold.booking_id.startswith("delivery:lalaport:ev-leaf:") and hold.car == "ev-leaf"
    assert hold.group == GROUP and hold.distance_m > 0
    answer = answers(bus)[hold.booking_id]
    assert answer.accepted and answer.member == "fleet" and (answer.start, answer.end) == (hold.start, hold.end)
    plan = latest(bus)["p-heavy"]
    assert isinstance(plan, ParcelAssigned) and plan.courier == "ev-leaf"
    assert hold.start < plan.planned_at < hold.end
    # a member asking for the Leaf across the round gets the other car: the book holds the Leaf for the round
    bus.publish(COOWNED, member("m-over", "aoki", hold.start, 1))
    bus.run_until_idle()
    assert answers(bus)["m-over"].accepted and answers(bus)["m-over"].car == "ev-sakura"


def test_a_round_the_book_refuses_is_planned_again_around_the_members_booking_and_reassigned(network):
    """The member's booking reaches mobility before the round's request: the book refuses the round, logistics
    takes those hours out and re-plans; the parcel is assigned again, on the Leaf after the member's booking."""
    bus = stack(network, Clock(START))
    bus.publish(COOWNED, member("m1", "aoki", START, 2))     # answered after logistics has planned
    bus.publish(REQUESTS, heavy())
    bus.run_until_idle()
    first, second = fleet_requests(bus)
    got = answers(bus)
    assert got["m1"].accepted and got["m1"].car == "ev-leaf"
    assert not got[first.booking_id].accepted
    assert "only inside the hours members left free" in got[first.booking_id].reason
    assert got[second.booking_id].accepted
    assert second.start >= START + timedelta(hours=2, minutes=15)   # after the member and the turnaround
    plans = [e for e in bus.events(ASSIGNMENTS) if isinstance(e, ParcelAssigned)]
    assert len(plans) == 2 and plans[0].planned_at < second.start    # the first plan, then the one that stands
    assert plans[-1].courier == "ev-leaf" and second.start < plans[-1].planned_at < second.end
    assert plans[-1].plan_revision > plans[0].plan_revision


def test_with_no_free_window_the_car_is_not_asked_for_and_the_parcel_is_refused(network):
    bus = stack(network, Clock(START))
    for car, who in (("ev-leaf", "aoki"), ("ev-sakura", "baba")):
        bus.publish(COOWNED, member(f"all-day-{car}", who, START - timedelta(hours=1), 12, car=car))
    bus.run_until_idle()
    bus.publish(REQUESTS, heavy())
    bus.publish(REQUESTS, heavy("p-light", kg=3.0))
    bus.run_until_idle()
    assert fleet_requests(bus) == []
    plans = latest(bus)
    assert isinstance(plans["p-heavy"], ParcelUndeliverable) and "heavier" in plans["p-heavy"].reason
    assert isinstance(plans["p-light"], ParcelAssigned) and plans["p-light"].courier.startswith("courier-")


def test_redelivered_requests_and_answers_change_nothing(network):
    bus = stack(network, Clock(START))
    bus.publish(COOWNED, member("m1", "aoki", START, 2))
    bus.publish(REQUESTS, heavy())
    bus.run_until_idle()
    before_coowned, before_plans = len(bus.events(COOWNED)), latest(bus)
    first, second = fleet_requests(bus)
    got = answers(bus)
    for again in (first, second):          # mobility answers a redelivered request with its first answer
        bus.publish(COOWNED, again)
    for again in (got[first.booking_id], got[second.booking_id]):   # logistics reads an answer twice
        bus.publish(COOWNED, again)
    bus.publish(REQUESTS, heavy())
    bus.run_until_idle()
    # the redelivered parcel's assignment comes with its round's request again (it may never have been sent)
    assert fleet_requests(bus) == [first, second, first, second, second]
    redone = [e for e in bus.events(COOWNED)[before_coowned:] if isinstance(e, CoownedBookingAnswered)]
    assert redone[:2] == [got[first.booking_id], got[second.booking_id]] and redone[-1] == got[second.booking_id]
    assert latest(bus) == before_plans


def test_after_a_restart_the_calendar_is_rebuilt_from_the_topic_and_the_holds_are_kept(network):
    clock = Clock(START)
    bus = stack(network, clock)
    bus.publish(REQUESTS, heavy())
    bus.run_until_idle()
    [hold] = fleet_requests(bus)
    restarted = build_logistics(network, clock=clock)
    assert COOWNED in restarted.replay
    fresh = InProcessBus([build_mobility(network, clock=clock), restarted])
    for e in bus.events(COOWNED):        # what the start-up replay reads back
        fresh.publish(COOWNED, e)
    fresh.run_until_idle()
    fresh.publish(REQUESTS, heavy("p-heavy-2"))
    fresh.run_until_idle()
    new = [e for e in fleet_requests(fresh) if e.booking_id != hold.booking_id]
    assert len(new) == 1 and answers(fresh)[new[0].booking_id].accepted
    # the new round does not touch the old one (with the 15 min turnaround either side)
    assert new[0].start >= hold.end + timedelta(minutes=15) or new[0].end + timedelta(minutes=15) <= hold.start


def test_a_round_waiting_for_its_answer_keeps_the_car_busy_for_the_other_depot(network):
    """Before mobility answers, the car's hours asked for one depot are not offered to the next."""
    svc = LogisticsService(network, clock=lambda: START)
    asked = []
    for depot in ("lalaport", "vinawalk"):
        p = heavy(f"p-{depot}", kg=90.0).model_copy(update={"depot": depot})
        asked += [o.payload for o in svc.on_request(Envelope.wrap(p, "test"), p) if o.topic is COOWNED]
    a, b = asked
    assert a.car == b.car == "ev-leaf"
    assert b.start >= a.end + timedelta(minutes=15) or b.end + timedelta(minutes=15) <= a.start


def test_a_parcel_the_car_delivered_pays_its_group_and_is_the_groups_credit_in_the_months_split(network):
    clock = Clock(START)
    bus = stack(network, clock)
    bus.publish(REQUESTS, heavy())
    bus.publish(REQUESTS, heavy("p-light", kg=3.0))
    bus.run_until_idle()
    clock.at = START + timedelta(hours=6)      # past every planned hand-over
    bus.tick()
    bus.run_until_idle()
    delivered = {e.parcel_id: e for e in bus.events(ASSIGNMENTS) if isinstance(e, ParcelDelivered)}
    assert delivered["p-heavy"].courier == "ev-leaf" and delivered["p-heavy"].operator == GROUP
    assert delivered["p-light"].operator == "ebina-couriers"
    usage = [e for e in bus.events(COOWNED) if isinstance(e, CoownedUsageRecorded)]
    assert [(u.ref, u.credit_sen) for u in usage] == [("delivery:p-heavy", delivered["p-heavy"].payout_yen * 100)]
    bus.publish(REQUESTS, heavy())             # a redelivered request of a delivered parcel: nothing new
    bus.publish(COOWNED, CoownedPeriodClosed(group=GROUP, period="2026-12"))
    bus.run_until_idle()
    [split] = bus.events(COST_SHARES)
    assert isinstance(split, CostShareSettled) and split.credit_sen == delivered["p-heavy"].payout_yen * 100


def test_a_car_the_book_keeps_refusing_is_not_asked_for_again_and_again(network):
    """Logistics lists the Leaf under a group mobility does not know: every round is refused; after three in a row
    the car is not offered for a day, and the parcel gets its answer instead of a stream of requests."""
    from services.logistics.service import LogisticsSettings, build_service
    from services.logistics.settings import CoownedCar

    settings = LogisticsSettings(coowned=(CoownedCar("ev-leaf", "some-other-group", 100_000, 20),))
    clock = Clock(START)
    bus = InProcessBus([build_mobility(network, clock=clock), build_service(network, settings, clock)])
    bus.publish(REQUESTS, heavy())
    bus.run_until_idle()
    asked = fleet_requests(bus)
    assert len(asked) == 3 and not any(answers(bus)[a.booking_id].accepted for a in asked)
    assert "no co-owning group" in answers(bus)[asked[0].booking_id].reason
    final = latest(bus)["p-heavy"]
    assert isinstance(final, ParcelUndeliverable) and "heavier" in final.reason


def test_the_cars_lent_come_from_the_operators_file_and_an_empty_one_lends_none(network, tmp_path):
    from services.logistics.config import LogisticsConfig
    from services.logistics.settings import load_coowned_cars

    path = tmp_path / "cars.json"
    path.write_text('[{"id": "ev-leaf", "group": "ebina-kashiwa-ev", "capacity_kg": 80, "max_parcels": 5, '
                    '"depots": ["lalaport"]}]', encoding="utf-8")
    [car] = load_coowned_cars(path)
    assert (car.id, car.capacity_g, car.max_parcels, car.carport, car.depots) == (
        "ev-leaf", 80_000, 5, ("ref", "LF72"), ("lalaport",))
    none = tmp_path / "none.json"
    none.write_text("[]", encoding="utf-8")
    bus = InProcessBus([build_mobility(network, clock=Clock(START)),
                        build_logistics(network, LogisticsConfig(coowned_cars=none), clock=Clock(START))])
    bus.publish(REQUESTS, heavy())
    bus.run_until_idle()
    assert fleet_requests(bus) == [] and isinstance(latest(bus)["p-heavy"], ParcelUndeliverable)


def test_a_round_whose_parcels_all_failed_before_it_left_is_given_back_to_the_members(network):
    """The only parcel of a held round fails before the car leaves (the recipient called it off): logistics gives
    the round back, mobility's book drops it, and a member can book the Leaf in those hours again."""
    clock = Clock(START)
    bus = InProcessBus([build_mobility(network, clock=clock), build_logistics(network, clock=clock)], clock=clock)
    later = heavy().model_copy(update={"deliver_from": START + timedelta(hours=2)})
    bus.publish(REQUESTS, later)
    bus.run_until_idle()
    [hold] = fleet_requests(bus)
    assert answers(bus)[hold.booking_id].accepted and hold.start > START
    bus.publish(REQUESTS, DeliveryFailed(parcel_id="p-heavy", courier="ev-leaf", reason="the recipient moved"))
    bus.run_until_idle()
    [cancel] = [e for e in bus.events(COOWNED) if isinstance(e, CoownedBookingCancelled)]
    assert (cancel.booking_id, cancel.member, cancel.group) == (hold.booking_id, "fleet", GROUP)
    bus.publish(COOWNED, member("m-after", "aoki", hold.start, 1))
    bus.run_until_idle()
    assert answers(bus)["m-after"].accepted and answers(bus)["m-after"].car == "ev-leaf"
    # a member cannot give back the fleet's booking, nor anyone a booking that has started
    bus.publish(COOWNED, CoownedBookingCancelled(booking_id="m-after", group=GROUP, member="baba"))
    clock.at = hold.start + timedelta(minutes=5)
    bus.publish(COOWNED, CoownedBookingCancelled(booking_id="m-after", group=GROUP, member="aoki"))
    bus.publish(COOWNED, member("m-clash", "chiba", hold.start, 1, car="ev-leaf"))
    bus.run_until_idle()
    assert answers(bus)["m-clash"].car != "ev-leaf"      # the Leaf is still aoki's


def replay_into(service, source: InProcessBus) -> None:
    """What the Kafka adapter's start-up replay does: every replayed topic's messages through the handlers, in the
    service's replay order, the outputs thrown away."""
    for topic in service.replay:
        for event in source.events(topic):
            result = deliver(service, topic.name, encode(Envelope.wrap(event, "replay")))
            assert result.dead_letter_reason is None, result.dead_letter_reason


def test_a_crashed_logistics_worker_has_its_open_parcels_again_planned_as_they_were(network):
    """Two parcels planned (one on a courier, one on the Leaf with its round held), then the worker dies. The
    new one, replayed from the topics, has both open as planned: a redelivered request gets the same plan (no
    second round asked for), a new parcel does not move the Leaf's parcel, and each is delivered once."""
    clock = Clock(START)
    bus = stack(network, clock)
    bus.publish(REQUESTS, heavy())
    bus.publish(REQUESTS, heavy("p-light", kg=3.0))
    bus.run_until_idle()
    before = latest(bus)
    assert len(fleet_requests(bus)) == 1
    assert before["p-heavy"].courier == "ev-leaf" and before["p-light"].courier.startswith("courier-")

    restarted = build_logistics(network, clock=clock)
    replay_into(restarted, bus)
    fresh = InProcessBus([build_mobility(network, clock=clock), restarted])
    for e in bus.events(COOWNED):                # mobility's own replay of the group's book
        fresh.publish(COOWNED, e)
    fresh.run_until_idle()
    n_coowned = len(fresh.events(COOWNED))
    fresh.publish(REQUESTS, heavy())             # redelivered after the restart
    fresh.publish(REQUESTS, heavy("p-new", kg=3.0))
    fresh.run_until_idle()
    again = latest(fresh)
    assert again["p-heavy"] == before["p-heavy"]          # re-sent as it was, still on the Leaf
    # the courier's parcels are planned again with the new one, as before a crash
    assert again["p-new"].courier.startswith("courier-") and again["p-light"].courier.startswith("courier-")
    assert again["p-light"].plan_revision > before["p-light"].plan_revision
    assert [e for e in fresh.events(COOWNED)[n_coowned:] if isinstance(e, CoownedBookingRequested)] == []
    clock.at = START + timedelta(hours=6)
    fresh.tick()
    fresh.run_until_idle()
    done = [e.parcel_id for e in fresh.events(ASSIGNMENTS) if isinstance(e, ParcelDelivered)]
    assert sorted(done) == ["p-heavy", "p-light", "p-new"]
    fresh.tick()
    fresh.run_until_idle()
    assert len([e for e in fresh.events(ASSIGNMENTS) if isinstance(e, ParcelDelivered)]) == 3
