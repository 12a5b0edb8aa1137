"""Revising a running campaign: what may change, and the rule that money already committed cannot be unbudgeted.

An operator may change the daily budget, the guard (the funded maximum), two fairness caps and how long new
offers stay open. A revision is judged against what the campaign has committed when it is decided:

- the daily budget bounds the expected spend, so it cannot go below the expected committed spend (rewards
  paid, accepted offers at face value, open offers at their acceptance probability);
- the guard bounds the worst case, so it cannot go below what the campaign could owe if every open offer
  were accepted and redeemed (paid, accepted and open offers at face value); it stays at least the budget.

Offers already made keep their reward and expiry; the new terms shape the rounds to come. Errors name the
field and the rule, so the gateway can say which field of the operator's form to fix.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from services.incentives.domain.campaign import Budget, Campaign, FairnessCaps


class RevisionRefused(ValueError):
    """A revision breaks a rule; ``field`` names the field it is about."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.rule = message


@dataclass(frozen=True)
class Terms:
    """The revisable terms of a campaign."""

    daily_budget_yen: int
    guard_yen: int
    max_offers_per_user_per_day: int
    pause_after_declines: int
    valid_minutes: int

    @classmethod
    def of(cls, campaign: Campaign, valid_minutes: int) -> Terms:
        return cls(campaign.budget.daily_yen, campaign.budget.guard_yen, campaign.caps.max_offers_per_user_per_day,
                   campaign.caps.pause_after_declines, valid_minutes)

    def applied_to(self, campaign: Campaign) -> Campaign:
        """``campaign`` under these terms (budget and caps; the validity lives with the campaign's event)."""
        caps: FairnessCaps = replace(campaign.caps, max_offers_per_user_per_day=self.max_offers_per_user_per_day,
                                     pause_after_declines=self.pause_after_declines)
        return replace(campaign, budget=Budget(daily_yen=self.daily_budget_yen, guard_yen=self.guard_yen), caps=caps)


def revise(current: Terms, changes: Mapping[str, int], expected_committed_yen: float,
           worst_case_committed_yen: int) -> Terms:
    """The terms after ``changes`` (field -> new value), or :class:`RevisionRefused` naming the field and rule."""
    unknown = sorted(set(changes) - set(Terms.__dataclass_fields__))
    if unknown:
        raise RevisionRefused(unknown[0], "is not a term a revision may change")
    new = replace(current, **dict(changes))
    for name in ("daily_budget_yen", "guard_yen", "max_offers_per_user_per_day", "pause_after_declines",
                 "valid_minutes"):
        if getattr(new, name) < 1:
            raise RevisionRefused(name, "must be at least 1")
    committed = math.ceil(round(expected_committed_yen, 6))
    if new.daily_budget_yen < committed:
        raise RevisionRefused("daily_budget_yen", f"cannot be lowered below the {committed:,} yen already committed "
                                                  "(rewards paid, accepted offers, open offers at their acceptance)")
    if new.guard_yen < worst_case_committed_yen:
        raise RevisionRefused("guard_yen", f"cannot be lowered below the {worst_case_committed_yen:,} yen the "
                                           "campaign could owe now (rewards paid, accepted and open offers at face "
                                           "value)")
    if new.guard_yen < new.daily_budget_yen:
        field = "guard_yen" if "guard_yen" in changes else "daily_budget_yen"
        raise RevisionRefused(field, f"the guard ({new.guard_yen:,} yen) must be at least the daily budget "
                                     f"({new.daily_budget_yen:,} yen): it is the funded maximum")
    try:
        FairnessCaps(max_offers_per_user_per_day=new.max_offers_per_user_per_day,
                     pause_after_declines=new.pause_after_declines)
    except ValueError as exc:
        field, _, rule = str(exc).partition(": ")
        raise RevisionRefused(field.removeprefix("caps."), rule) from None
    return new
