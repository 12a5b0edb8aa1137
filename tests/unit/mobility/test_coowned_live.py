"""Co-owned EVs live: members' bookings answered from the month's book, metered charging and fares recorded on
the group's topic, and an operator's close split into CostShareSettled once; the topic alone rebuilds it all."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from services.mobility.coowned import CoownedGroups, default_groups
from services.mobility.settings import TOKYO
from shared.contracts.base import Envelope
from shared.contracts.charging import ChargingBilled, ChargingSessionMetered
from shared.contracts.mobility import (
    COOWNED,
    COST_SHARES,
    CoownedBookingAnswered,
    CoownedBookingRequested,
    CoownedPeriodClosed,
    CoownedUsageRecorded,
    CostShareSettled,
    RideCompleted,
)
from shared.errors import DomainError

GROUP = "ebina-kashiwa-ev"
DAY = datetime(2026, 11, 10, tzinfo=TOKYO)


def env(payload) -> Envelope:
    return Envelope.wrap(payload, "test")


def book(groups: CoownedGroups, bid: str, member: str, start_h: float, hours: float, car: str | None = None,
         day: datetime = DAY) -> CoownedBookingAnswered:
    start = day + timedelta(hours=start_h)
    request = CoownedBookingRequested(booking_id=bid, group=GROUP, member=member, car=car, start=start,
                                      end=start + timedelta(hours=hours), distance_m=12_000)
    [out] = groups.on_booking(env(request), request)
    assert out.topic is COOWNED
    answer = out.payload
    assert isinstance(answer, CoownedBookingAnswered)
    groups.on_answer(env(answer), answer)
    return answer


def feed_usage(groups: CoownedGroups, outs) -> None:
    for out in outs:
        assert isinstance(out.payload, CoownedUsageRecorded)
        groups.on_usage(env(out.payload), out.payload)


def close(groups: CoownedGroups, period: str = "2026-11") -> CostShareSettled:
    event = CoownedPeriodClosed(group=GROUP, period=period)
    [out] = groups.on_close(env(event), event)
    assert out.topic is COST_SHARES
    return out.payload


def test_a_member_gets_the_car_asked_for_then_the_other_one_then_a_reason_with_no_car_free():
    groups = CoownedGroups(default_groups())
    first = book(groups, "b1", "aoki", 8, 2, car="ev-leaf")
    assert first.accepted and first.car == "ev-leaf" and first.period == "2026-11"
    moved = book(groups, "b2", "baba", 9, 1, car="ev-leaf")
    assert moved.accepted and moved.car == "ev-sakura"
    refused = book(groups, "b3", "chiba", 9.5, 1, car="ev-leaf")
    assert not refused.accepted and "ev-leaf is booked by aoki" in refused.reason and refused.free_cars == ()
    later = book(groups, "b4", "chiba", 12, 1, car="ev-leaf")  # after aoki's booking and the turnaround
    assert later.accepted and later.car == "ev-leaf"


def test_rules_are_answered_not_raised_and_a_redelivered_request_gets_its_first_answer():
    groups = CoownedGroups(default_groups())
    assert "not a member" in book(groups, "x1", "mallory", 8, 1).reason
    assert "not one of" in book(groups, "x2", "aoki", 8, 1, car="ev-tesla").reason
    across = book(groups, "x3", "aoki", 23, 4, day=datetime(2026, 11, 30, tzinfo=TOKYO))
    assert not across.accepted and "must end in the month it starts" in across.reason
    first = book(groups, "x4", "doi", 8, 1)
    again = book(groups, "x4", "endo", 14, 1)  # the same id again: the first answer, nothing booked twice
    assert again == first and again.member == "doi"
    no_group = CoownedBookingRequested(booking_id="x5", group="nobody", member="aoki", start=DAY,
                                       end=DAY + timedelta(hours=1))
    assert "no co-owning group" in groups.on_booking(env(no_group), no_group)[0].payload.reason
    with pytest.raises(DomainError, match="group"):
        bad_close = CoownedPeriodClosed(group="nobody", period="2026-11")
        groups.on_close(env(bad_close), bad_close)


def test_the_close_splits_bookings_charging_and_fares_into_bills_once_and_then_takes_no_bookings():
    groups = CoownedGroups(default_groups())
    book(groups, "b1", "aoki", 8, 3)
    book(groups, "b2", "baba", 13, 1)
    session = ChargingSessionMetered(charger="carport/cp-1", vehicle="ev-leaf", transaction_id=7,
                                     kwh=Decimal("12.500"), started_at=DAY + timedelta(hours=12),
                                     read_at=DAY + timedelta(hours=15), final=True)
    partial = session.model_copy(update={"final": False})
    assert groups.on_session(env(partial), partial) == []  # counted once, when the transaction ends
    outs = groups.on_session(env(session), session)
    feed_usage(groups, outs + outs)  # redelivered: still one charge
    ride = RideCompleted(request_id="r1", rider="someone", vehicle="ev-sakura", operator="ebina-kashiwa-ev",
                         fare_yen=900, payout_yen=720, dropped_off_at=DAY + timedelta(hours=18))
    feed_usage(groups, groups.on_ride(env(ride), ride))
    other = ride.model_copy(update={"vehicle": "taxi-1", "request_id": "r2"})
    assert groups.on_ride(env(other), other) == []
    split = close(groups)
    by = {m.member: m for m in split.members}
    assert split.period == "2026-11" and split.period_end == datetime(2026, 12, 1, tzinfo=TOKYO)
    assert split.instalment_sen == 6_850_000 + 4_230_000 and split.credit_sen == 72_000
    assert by["aoki"].use_min == 180 and by["baba"].use_min == 60 and by["chiba"].use_min == 0
    assert by["aoki"].instalment_sen == 3 * by["baba"].instalment_sen  # by booked hours
    assert by["chiba"].instalment_sen == 0 and by["chiba"].credit_sen > 0  # credit by ownership share
    assert split.energy_sen + split.fleet_energy_sen == round(12_500 * 2620 / 1000)
    assert close(groups) == split  # a redelivered close republishes the same split
    late = book(groups, "b3", "chiba", 20, 1)
    assert not late.accepted and "2026-11 is closed" in late.reason
    assert book(groups, "b4", "chiba", 20, 1, day=datetime(2026, 12, 2, tzinfo=TOKYO)).accepted


@pytest.mark.parametrize("bill_first", [False, True])
def test_the_bill_gives_a_metered_charge_its_pv_part_whichever_comes_first(bill_first):
    """The meter's record counts the kWh, the charging bill says 5 of the 12.5 were the carport's PV: the
    month pays 5 kWh at the PV price and 7.5 at the grid's, once, in either order (and a redelivery)."""
    groups = CoownedGroups(default_groups())
    book(groups, "b1", "aoki", 8, 3)
    session = ChargingSessionMetered(charger="carport/cp-1", vehicle="ev-leaf", transaction_id=7,
                                     kwh=Decimal("12.500"), started_at=DAY + timedelta(hours=12),
                                     read_at=DAY + timedelta(hours=15), final=True)
    bill = ChargingBilled(charger="carport/cp-1", transaction_id=7, vehicle="ev-leaf", participant="aoki",
                          site="carport", kwh=Decimal("12.500"), renewable_kwh=Decimal("5.000"),
                          fee_yen_per_kwh=Decimal("0"), stopped_at=DAY + timedelta(hours=15))
    metered, billed = groups.on_session(env(session), session), groups.on_bill(env(bill), bill)
    assert [o.payload.pv_wh for o in billed] == [5_000] and [o.payload.pv_wh for o in metered] == [0]
    feed_usage(groups, billed + metered + billed if bill_first else metered + billed + metered)
    split = close(groups)
    assert split.energy_sen + split.fleet_energy_sen == 7_500 * 2620 // 1000 + 5_000 * 1500 // 1000
    stranger = bill.model_copy(update={"vehicle": "taxi-1"})
    assert groups.on_bill(env(stranger), stranger) == []


def test_the_groups_topic_alone_rebuilds_the_same_split():
    """Replay after a restart: the requests, usage records and close, in topic order, give the same answers
    and the same bills (the outputs are thrown away on replay; the state is what matters)."""
    live = CoownedGroups(default_groups())
    topic: list = []
    for bid, member, start_h in (("b1", "aoki", 8), ("b2", "endo", 8.5), ("b3", "doi", 9)):
        start = DAY + timedelta(hours=start_h)
        request = CoownedBookingRequested(booking_id=bid, group=GROUP, member=member, start=start,
                                          end=start + timedelta(hours=2))
        topic.append(request)
        topic += [o.payload for o in live.on_booking(env(request), request)]
    session = ChargingSessionMetered(charger="carport/cp-2", vehicle="ev-sakura", transaction_id=1, kwh=Decimal("8"),
                                     started_at=DAY, read_at=DAY + timedelta(hours=20), final=True)
    usage = [o.payload for o in live.on_session(env(session), session)]
    topic += usage
    feed_usage(live, live.on_session(env(session), session))
    topic.append(CoownedPeriodClosed(group=GROUP, period="2026-11"))
    settled = close(live)

    rebuilt = CoownedGroups(default_groups())
    handlers = {CoownedBookingRequested: rebuilt.on_booking, CoownedBookingAnswered: rebuilt.on_answer,
                CoownedUsageRecorded: rebuilt.on_usage, CoownedPeriodClosed: rebuilt.on_close}
    outputs = [o for p in topic for o in handlers[type(p)](env(p), p)]
    assert outputs[-1].payload == settled
    assert {b: a.car for b, a in rebuilt.answers.items()} == {b: a.car for b, a in live.answers.items()}
    assert not rebuilt.answers["b3"].accepted  # two cars, three overlapping bookings
