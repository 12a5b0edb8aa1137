"""A co-owned car lent only with the charge for it: the estimate (full at the month's start, less each booking's
distance, plus each metered charge), the reserve the fleet must leave, and members' later bookings first."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.mobility.coowned import CoownedGroups, GroupSpec
from services.mobility.domain.coownership.battery import levels, shortfall
from services.mobility.domain.coownership.bookings import FLEET, Booking, Car, CoownershipError
from services.mobility.domain.coownership.energy import Charge
from services.mobility.settings import TOKYO
from shared.contracts.base import Envelope
from shared.contracts.mobility import CoownedBookingAnswered, CoownedBookingRequested, CoownedUsageRecorded

SMALL = Car("ev-mini", 10_000, 150, 1_000_000, 100_000)   # 10 kWh at 150 Wh/km: about 66 km when full
DAY1 = datetime(2026, 12, 1, tzinfo=TOKYO)                 # the period's start (minute 0)


def km(n: float) -> int:
    return int(n * 1000)


def test_the_estimate_takes_each_trip_at_its_start_and_each_charge_when_it_ended():
    trips = [Booking("a", "aoki", "ev-mini", 600, 660, km(40)), Booking("b", "baba", "ev-mini", 900, 960, km(40))]
    assert levels(SMALL, trips, []) == {"a": 10_000, "b": 4_000}
    assert levels(SMALL, trips, [Charge("ev-mini", 800, 5_000, 2_000)]) == {"a": 10_000, "b": 9_000}
    # never above full, never below empty
    over = [Charge("ev-mini", 100, 50_000, 0)]
    assert levels(SMALL, trips, over)["a"] == 10_000
    assert levels(SMALL, [*trips, Booking("c", "chiba", "ev-mini", 1000, 1010, km(100))], [])["c"] == 0


def test_the_fleet_keeps_the_reserve_and_leaves_members_later_bookings_their_charge():
    member = Booking("m", "aoki", "ev-mini", 1080, 1200, km(40))          # 18:00, needs 6 kWh
    assert shortfall(SMALL, [member], [], Booking("j1", FLEET, "ev-mini", 720, 780, km(20)), 2_000) is None
    short = shortfall(SMALL, [member], [], Booking("j2", FLEET, "ev-mini", 720, 780, km(30)), 2_000)
    assert short is not None and (short.booking, short.member, short.have_wh, short.need_wh) == ("m", "aoki", 5_500,
                                                                                                  6_000)
    assert "aoki's booking" in short.reason("ev-mini", "18:00")
    greedy = shortfall(SMALL, [], [], Booking("j3", FLEET, "ev-mini", 720, 780, km(60)), 2_000)
    assert greedy is not None and greedy.member == FLEET and "below its reserve" in greedy.reason("ev-mini", "12:00")
    # a charge in between makes the same job fit; a member already short without the job does not block it
    assert shortfall(SMALL, [member], [Charge("ev-mini", 900, 6_000, 6_000)],
                     Booking("j2", FLEET, "ev-mini", 720, 780, km(30)), 2_000) is None
    hungry = Booking("h", "baba", "ev-mini", 1300, 1400, km(90))
    assert shortfall(SMALL, [hungry], [], Booking("j1", FLEET, "ev-mini", 720, 780, km(20)), 2_000) is None


def hold(groups: CoownedGroups, bid: str, at: datetime, kms: float):
    return groups.hold("ev-mini", bid, at, at + timedelta(hours=1), km(kms))


def test_a_fleet_hold_on_a_car_without_the_charge_is_refused_until_it_is_charged():
    groups = CoownedGroups([GroupSpec("mini-group", {"aoki": 1, "baba": 1}, (SMALL,))])
    refused = hold(groups, "delivery:x:ev-mini:1", DAY1 + timedelta(hours=12), 60)
    assert isinstance(refused, str) and "below its reserve" in refused and "12:00" in refused
    assert isinstance(hold(groups, "ride:r1", DAY1 + timedelta(hours=12), 40), CoownedBookingAnswered)
    # 4 kWh left: another 30 km (4.5 kWh) is refused, then a metered 5 kWh charge at 13:30 makes it fit
    assert isinstance(hold(groups, "ride:r2", DAY1 + timedelta(hours=14), 30), str)
    usage = CoownedUsageRecorded(group="mini-group", period="2026-12", ref="charge:c1/1", car="ev-mini",
                                 at=DAY1 + timedelta(hours=13, minutes=30), wh=5_000)
    groups.on_usage(Envelope.wrap(usage, "test"), usage)
    assert isinstance(hold(groups, "ride:r2", DAY1 + timedelta(hours=14), 30), CoownedBookingAnswered)


def test_a_members_booking_is_answered_without_the_check_but_the_fleet_must_leave_it_its_charge():
    groups = CoownedGroups([GroupSpec("mini-group", {"aoki": 1, "baba": 1}, (SMALL,))])
    ask = CoownedBookingRequested(booking_id="m1", group="mini-group", member="aoki", car="ev-mini",
                                  start=DAY1 + timedelta(hours=18), end=DAY1 + timedelta(hours=20), distance_m=km(40))
    [out] = groups.on_booking(Envelope.wrap(ask, "test"), ask)
    assert out.payload.accepted
    refused = hold(groups, "delivery:x:ev-mini:2", DAY1 + timedelta(hours=12), 30)
    assert isinstance(refused, str) and "aoki's booking at 18:00" in refused
    with pytest.raises(CoownershipError, match="reserve_pct"):
        GroupSpec("g", {"a": 1}, (SMALL,), reserve_pct=100)
