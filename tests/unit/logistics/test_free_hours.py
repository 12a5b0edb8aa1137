"""The co-owned cars' free hours as logistics reads them from mobility.coowned: members' bookings and the
fleet's holds, the book's 15-minute turnaround, refusals, blocked windows and closed months."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.logistics.domain.free_hours import FLEET, FreeHours

TOKYO = ZoneInfo("Asia/Tokyo")
DAY = datetime(2026, 12, 1, 0, 0, tzinfo=TOKYO)
CARS = {"ev-leaf": "ebina-kashiwa-ev", "ev-sakura": "ebina-kashiwa-ev"}


def at(h: float) -> datetime:
    return DAY + timedelta(hours=h)


def test_a_member_booking_leaves_the_hours_around_it_minus_the_turnaround():
    cal = FreeHours(CARS)
    cal.book("m1", "ev-leaf", "aoki", at(9), at(12))
    assert cal.windows("ev-leaf", at(6), at(20)) == [(at(6), at(8.75)), (at(12.25), at(20))]
    assert cal.windows("ev-sakura", at(6), at(20)) == [(at(6), at(20))]   # the other car is untouched


def test_a_gap_between_members_shorter_than_an_hour_is_not_offered():
    cal = FreeHours(CARS)
    cal.book("m1", "ev-leaf", "aoki", at(9), at(12))
    cal.book("m2", "ev-leaf", "baba", at(13), at(15))   # 12:15 - 12:45 left: under an hour
    assert cal.windows("ev-leaf", at(8), at(18)) == [(at(8), at(8.75)), (at(15.25), at(18))]


def test_a_fleet_hold_takes_its_hours_and_turnaround_both_sides_but_not_the_offer_around_it():
    cal = FreeHours(CARS)
    cal.book("ride:r1", "ev-leaf", FLEET, at(10), at(10.5))
    # 10:15 - 10:45 on either side stays usable, though shorter than an hour: the offer is the members' gap
    assert cal.windows("ev-leaf", at(9), at(12)) == [(at(9), at(9.75)), (at(10.75), at(12))]


def test_bookings_hold_every_minute_they_touch():
    cal = FreeHours(CARS)
    cal.book("m1", "ev-leaf", "aoki", at(9) + timedelta(seconds=30), at(10) + timedelta(seconds=1))
    assert cal.windows("ev-leaf", at(6), at(12)) == [(at(6), at(8.75)), (at(10.25) + timedelta(minutes=1), at(12))]


def test_a_refused_or_given_way_booking_frees_its_hours_and_the_same_id_again_replaces_it():
    cal = FreeHours(CARS)
    cal.book("m1", "ev-leaf", "aoki", at(9), at(12))
    cal.book("m1", "ev-leaf", "aoki", at(9), at(12))
    assert len(cal.bookings("ev-leaf")) == 1
    assert cal.release("m1") is not None and cal.release("m1") is None
    assert cal.windows("ev-leaf", at(6), at(20)) == [(at(6), at(20))]


def test_a_blocked_window_and_a_closed_month_offer_nothing():
    cal = FreeHours(CARS)
    cal.block("ev-leaf", at(13), at(15))
    assert cal.windows("ev-leaf", at(12), at(16)) == [(at(12), at(13)), (at(15), at(16))]
    cal.close("ebina-kashiwa-ev", "2026-12")
    assert cal.windows("ev-leaf", at(12), at(16)) == [] and cal.windows("ev-sakura", at(12), at(16)) == []
    # November is still open: a window up to the month's end, none across it
    nov = cal.windows("ev-sakura", DAY - timedelta(hours=3), DAY + timedelta(hours=3))
    assert nov == [(DAY - timedelta(hours=3), DAY)]


def test_cars_of_no_group_have_no_windows_and_are_not_recorded():
    cal = FreeHours(CARS)
    cal.book("x", "taxi-1", "someone", at(9), at(10))
    assert cal.windows("taxi-1", at(6), at(12)) == [] and "x" not in cal.busy
    with pytest.raises(ValueError, match="end must be after start"):
        cal.book("bad", "ev-leaf", "aoki", at(10), at(9))


@pytest.mark.parametrize("seed", range(4))
def test_the_calendar_predicts_exactly_which_holds_mobilitys_book_accepts(seed):
    """Random members' bookings and fleet holds on the group's real book (mobility's, the authority): a span is
    inside one of the calendar's windows exactly when the book accepts it as the fleet's hold."""
    import numpy as np

    from services.mobility.coowned import CoownedGroups, default_groups
    from shared.contracts.base import Envelope
    from shared.contracts.mobility import CoownedBookingRequested

    rng = np.random.default_rng(seed)
    groups, cal = CoownedGroups(default_groups()), FreeHours(CARS)
    base = datetime(2026, 12, 10, 6, 0, tzinfo=TOKYO)
    agreed = accepted = 0
    for k in range(300):
        car = ("ev-leaf", "ev-sakura")[int(rng.integers(2))]
        start = base + timedelta(minutes=int(rng.integers(0, 3 * 24 * 60)))
        end = start + timedelta(minutes=int(rng.integers(10, 240)))
        if rng.random() < 0.3:   # a member books first
            p = CoownedBookingRequested(booking_id=f"m{k}", group="ebina-kashiwa-ev", member="aoki", car=car,
                                        start=start, end=end)
            [out] = groups.on_booking(Envelope.wrap(p, "test"), p)
            a = out.payload
            if a.accepted:
                cal.book(a.booking_id, a.car, a.member, a.start, a.end)
            continue
        predicted = any(lo <= start and end <= hi for lo, hi in cal.windows(car, start - timedelta(days=1),
                                                                            end + timedelta(days=1)))
        held = groups.hold(car, f"delivery:x:{k}", start, end)
        assert predicted == (not isinstance(held, str)), (k, car, start, end, held)
        agreed += 1
        if not isinstance(held, str):
            accepted += 1
            cal.book(held.booking_id, car, FLEET, held.start, held.end)
    assert agreed > 150 and 0 < accepted < agreed   # both outcomes were met
