"""Usernames and passwords: each broken rule names the field and says what to do."""

from __future__ import annotations

import pytest

from services.gateway.accounts.domain.rules import RuleBroken, check_password, normal_username


def test_usernames_are_normalised_to_lower_case_ascii():
    """Full-width letters and upper case fold to one stored form, so 'Ｈａｎａｋｏ' and 'hanako' are the same name."""
    assert normal_username("  Ｈａｎａｋｏ ") == "hanako"
    assert normal_username("taro.ebina_2") == "taro.ebina_2"


@pytest.mark.parametrize("name, rule", [("ab", "3-64"), ("-lead", "starting with"), ("sp ace", "a-z"),
                                        ("x" * 65, "3-64"), ("grid", "reserved"), ("Operator", "reserved")])
def test_bad_usernames_name_the_rule(name, rule):
    """Too short, bad characters or a platform account: refused, naming the username and the rule."""
    with pytest.raises(RuleBroken) as err:
        normal_username(name)
    assert err.value.field == "username" and rule in str(err.value)


@pytest.mark.parametrize("password, rule", [
    ("short-1", "at least 10"), ("aaaaabbbbbb", "5 different"), ("Password123", "common"),
    ("my-hanako-pass", "username"), ("x" * 129 + "abcde", "at most 128")])
def test_weak_passwords_name_the_rule(password, rule):
    """Short, repetitive, common or containing the username: refused with the rule it breaks."""
    with pytest.raises(RuleBroken) as err:
        check_password(password, "hanako")
    assert err.value.field == "password" and rule in str(err.value)


def test_a_long_varied_password_passes():
    assert check_password("green-kWh-2026", "hanako") == "green-kWh-2026"
