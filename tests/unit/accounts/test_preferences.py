"""Preferences: defaults, rules naming the field, quiet hours across midnight, stored per account."""

from __future__ import annotations

import pytest

from services.gateway.accounts.domain.preferences import Preferences, in_quiet_hours, merged
from services.gateway.accounts.domain.rules import RuleBroken
from services.gateway.accounts.service import NoAccount

from .conftest import PASSWORD


def test_defaults_are_quiet_and_opted_in_to_nothing_pushed():
    p = Preferences()
    assert (p.notifications, p.quiet_start, p.quiet_end, p.ev_profile, p.offers_opt_out) == (
        False, "22:00", "07:00", "economy", False)


@pytest.mark.parametrize("changes, field", [({"quiet_start": "25:00"}, "quiet_start"),
                                            ({"quiet_end": None}, "quiet_end"),
                                            ({"quiet_start": "07:00"}, "quiet_end"),
                                            ({"ev_profile": "fast"}, "ev_profile"),
                                            ({"home_area": "Ebina East"}, "home_area"),
                                            ({"colour": "blue"}, "colour")])
def test_bad_preferences_name_the_field(changes, field):
    with pytest.raises(RuleBroken) as err:
        merged(Preferences(), changes)
    assert err.value.field == field


def test_quiet_hours_may_run_past_midnight():
    night = Preferences()
    assert in_quiet_hours(night, "23:30") and in_quiet_hours(night, "06:59") and not in_quiet_hours(night, "07:00")
    lunch = merged(night, {"quiet_start": "12:00", "quiet_end": "13:00"})
    assert in_quiet_hours(lunch, "12:30") and not in_quiet_hours(lunch, "23:30")
    assert not in_quiet_hours(merged(night, {"quiet_start": None, "quiet_end": None}), "23:30")


def test_preferences_are_stored_per_account(accounts):
    hanako = accounts.sign_up("hanako", PASSWORD)
    taro = accounts.sign_up("taro", PASSWORD)
    accounts.update_preferences(hanako.subject, {"notifications": True, "ev_profile": "green",
                                                 "home_area": "ebina-east"})
    accounts.update_preferences(hanako.subject, {"offers_opt_out": True})
    mine = accounts.preferences(hanako.subject)
    assert (mine.notifications, mine.ev_profile, mine.home_area, mine.offers_opt_out) == (True, "green", "ebina-east",
                                                                                          True)
    assert accounts.preferences(taro.subject) == Preferences()
    with pytest.raises(NoAccount):
        accounts.preferences("home-without-account")
