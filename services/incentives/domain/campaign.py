"""A campaign as an operator defines it: goal, budget, catalogue, targeting rules and fairness caps.

Everything is validated at construction and errors name the field and the rule, so the gateway can
answer 422 with the message as it stands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from services.incentives.domain.catalogue import OfferSpec

GoalKind = Literal["cut_load", "lift_footfall", "fill_chargers"]
Focus = Literal["window", "peak"]
DAY_MIN = 1440


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_clock(value: str | int) -> int:
    """'07:30' -> 450; integers pass through as minutes of the day."""
    if isinstance(value, int):
        return value
    hours, _, minutes = str(value).partition(":")
    if not (hours.isdigit() and minutes.isdigit()) or int(minutes) >= 60 or int(hours) > 24:
        raise ValueError(f"time {value!r}: expected hh:mm")
    return int(hours) * 60 + int(minutes)


@dataclass(frozen=True)
class Goal:
    """What the campaign is for.

    - ``cut_load``: cut the walkers at chokepoint ``place`` during ``window`` by ``share``;
    - ``lift_footfall``: raise arrivals at shopping centre ``place`` during ``window`` by ``share``;
    - ``fill_chargers``: move charging sessions at site ``place`` into ``window`` (the PV surplus) until
      ``share`` of the chargers' capacity there is used.

    ``focus`` (cut_load): ``window`` counts every crossing taken out of the window, ``peak`` only those
    taken out of the minutes whose 15-minute load is above the target level (the peak to flatten).
    """

    kind: GoalKind
    place: str
    window: tuple[int, int]
    share: float
    focus: Focus = "window"

    def __post_init__(self) -> None:
        if self.kind not in ("cut_load", "lift_footfall", "fill_chargers"):
            raise ValueError(f"goal.kind: must be cut_load, lift_footfall or fill_chargers, not {self.kind!r}")
        if not self.place:
            raise ValueError("goal.place: name the chokepoint, shopping centre or charging site")
        a, b = self.window
        if not 0 <= a < b <= DAY_MIN:
            raise ValueError("goal.window: start before end, both within the day")
        if not 0 < self.share <= 1:
            raise ValueError("goal.share: must be in (0, 1]")
        if self.focus not in ("window", "peak"):
            raise ValueError(f"goal.focus: window or peak, not {self.focus!r}")

    def describe(self) -> str:
        a, b = self.window
        verb = {"cut_load": "cut the load at", "lift_footfall": "lift footfall at",
                "fill_chargers": "fill the chargers at"}[self.kind]
        return f"{verb} {self.place} {clock(a)}-{clock(b)} by {self.share:.0%}"


@dataclass(frozen=True)
class Budget:
    """``daily_yen`` bounds the expected spend of a day (an offer costs only when redeemed);
    ``guard_yen`` bounds what would be owed if every offer still open were accepted and redeemed, so a
    surge of acceptances can never overspend the funded account."""

    daily_yen: int
    guard_yen: int

    def __post_init__(self) -> None:
        if self.daily_yen <= 0:
            raise ValueError("budget.daily_yen: must be positive")
        if self.guard_yen < self.daily_yen:
            raise ValueError("budget.guard_yen: must be at least budget.daily_yen (it is the funded maximum)")


@dataclass(frozen=True)
class FairnessCaps:
    """Limits that protect people from the optimiser.

    ``quiet_hours`` is (start, end) in minutes of the day and may wrap midnight; no offer is sent in it.
    After ``pause_after_declines`` declines in a row a user gets no more offers that day, and each
    decline before that scales the user's acceptance estimate by ``decline_factor``, so people who keep
    saying no are asked less often.
    """

    max_offers_per_user_per_day: int = 2
    quiet_hours: tuple[int, int] | None = (22 * 60, 7 * 60)
    pause_after_declines: int = 3
    decline_factor: float = 0.6
    min_offers_per_segment: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.max_offers_per_user_per_day <= 50:
            raise ValueError("caps.max_offers_per_user_per_day: must be 1..50")
        if self.quiet_hours is not None:
            a, b = self.quiet_hours
            if not (0 <= a < DAY_MIN and 0 <= b <= DAY_MIN) or a == b:
                raise ValueError("caps.quiet_hours: two different times within the day")
        if self.pause_after_declines < 1:
            raise ValueError("caps.pause_after_declines: must be at least 1")
        if not 0 < self.decline_factor <= 1:
            raise ValueError("caps.decline_factor: must be in (0, 1]")
        if self.min_offers_per_segment < 0:
            raise ValueError("caps.min_offers_per_segment: must not be negative")

    def quiet(self, minute_of_day: int) -> bool:
        if self.quiet_hours is None:
            return False
        a, b = self.quiet_hours
        m = minute_of_day % DAY_MIN
        return a <= m < b if a < b else (m >= a or m < b)


@dataclass(frozen=True)
class Targeting:
    """Who may receive offers. A segment is left out only with a stated reason (kept for the report);
    ``segments`` limits offers to the named segments, again with the reason given in ``reason``."""

    excluded: dict[str, str] = field(default_factory=dict)
    segments: tuple[str, ...] | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        for segment, why in self.excluded.items():
            if not why or not why.strip():
                raise ValueError(f"targeting.excluded.{segment}: a segment is left out only with a reason")
        if self.segments is not None and not self.reason.strip():
            raise ValueError("targeting.reason: limiting offers to some segments needs a reason")

    def allows(self, segment: str) -> bool:
        if segment in self.excluded:
            return False
        return self.segments is None or segment in self.segments

    def why_not(self, segment: str) -> str | None:
        if segment in self.excluded:
            return self.excluded[segment]
        if self.segments is not None and segment not in self.segments:
            return self.reason
        return None


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    operator: str
    goal: Goal
    budget: Budget
    catalogue: tuple[OfferSpec, ...]
    targeting: Targeting = Targeting()
    caps: FairnessCaps = FairnessCaps()
    round_minutes: int = 5

    def __post_init__(self) -> None:
        if not self.campaign_id or len(self.campaign_id) > 64:
            raise ValueError("campaign_id: 1 to 64 characters")
        if not self.catalogue:
            raise ValueError("catalogue: at least one offer")
        ids = [o.offer_id for o in self.catalogue]
        if len(set(ids)) != len(ids):
            raise ValueError("catalogue: offer ids must be unique")
        if not 1 <= self.round_minutes <= 120:
            raise ValueError("round_minutes: must be 1..120")
        if self.goal.kind == "fill_chargers" and not any(o.kind == "ev_charge_now" for o in self.catalogue):
            raise ValueError("catalogue: a fill_chargers goal needs an ev_charge_now offer")

    def offer(self, offer_id: str) -> OfferSpec:
        for o in self.catalogue:
            if o.offer_id == offer_id:
                return o
        raise KeyError(f"offer {offer_id!r} is not in campaign {self.campaign_id!r}")

    def index(self, offer_id: str) -> int:
        return [o.offer_id for o in self.catalogue].index(offer_id)
