"""The services' clocks: the wall clock, or one that runs faster or starts at a set time of day, so that a demo
or an end-to-end test runs in the fleet's working hours whatever the hour it is started at. Services that plan
together (rides and the deliveries lent to them) are given the same start, so they agree on the time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from zoneinfo import ZoneInfo

from shared.contracts.base import utcnow

TOKYO = ZoneInfo("Asia/Tokyo")


def scaled_clock(scale: int, start_at: time | None = None) -> Callable[[], datetime]:
    """The wall clock, or one running ``scale`` times faster from now on; from ``start_at`` today (Japan
    time) instead of now when given."""
    if scale <= 1 and start_at is None:
        return utcnow
    wall = utcnow()
    origin = wall if start_at is None else datetime.combine(wall.astimezone(TOKYO).date(), start_at, TOKYO)
    return lambda: origin + (utcnow() - wall) * scale
