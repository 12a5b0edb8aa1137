"""An app user's preferences: notifications, quiet hours, the EV charging profile, home and work areas, and
whether they take offers at all. Pure: the rules a stored value must keep, and the defaults a new account has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal, get_args

from services.gateway.accounts.domain.rules import RuleBroken

EvProfile = Literal["economy", "green", "price-first"]
EV_PROFILES: tuple[str, ...] = get_args(EvProfile)
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_AREA = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Preferences:
    notifications: bool = False  # opt-in: nothing is pushed until the user says so
    quiet_start: str | None = "22:00"  # local time (Asia/Tokyo); no offers or notifications in between
    quiet_end: str | None = "07:00"
    ev_profile: EvProfile = "economy"
    home_area: str | None = None
    work_area: str | None = None
    offers_opt_out: bool = False


def checked(prefs: Preferences) -> Preferences:
    """``prefs`` if every field keeps its rule; else :class:`RuleBroken` naming the field."""
    for name in ("quiet_start", "quiet_end"):
        value = getattr(prefs, name)
        if value is not None and not _CLOCK.fullmatch(value):
            raise RuleBroken(name, f"must be a local time HH:MM (00:00-23:59), not {value[:20]!r}")
    if (prefs.quiet_start is None) != (prefs.quiet_end is None):
        raise RuleBroken("quiet_end", "quiet hours need both a start and an end (or neither)")
    if prefs.quiet_start is not None and prefs.quiet_start == prefs.quiet_end:
        raise RuleBroken("quiet_end", "must differ from quiet_start (leave both empty for no quiet hours)")
    if prefs.ev_profile not in EV_PROFILES:
        raise RuleBroken("ev_profile", f"must be one of {', '.join(EV_PROFILES)}")
    for name in ("home_area", "work_area"):
        value = getattr(prefs, name)
        if value is not None and not _AREA.fullmatch(value):
            raise RuleBroken(name, "must be 1-64 of a-z, 0-9, '-' or '_'")
    return prefs


def merged(current: Preferences, changes: dict[str, object]) -> Preferences:
    """``current`` with ``changes`` applied (fields not named keep their value), checked."""
    unknown = set(changes) - set(Preferences.__dataclass_fields__)
    if unknown:
        raise RuleBroken(sorted(unknown)[0], "is not a preference")
    return checked(replace(current, **changes))  # type: ignore[arg-type]


def in_quiet_hours(prefs: Preferences, local_hhmm: str) -> bool:
    """Whether a local clock time falls in the quiet hours (a span may run past midnight)."""
    if prefs.quiet_start is None or prefs.quiet_end is None:
        return False
    start, end = prefs.quiet_start, prefs.quiet_end
    return start <= local_hhmm < end if start < end else (local_hhmm >= start or local_hhmm < end)
