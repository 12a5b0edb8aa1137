"""A campaign's goal place over its day, for the operators' campaign panel: the live load beside the
simulator's counterfactual (the same day without offers).

What it folds (topics the city already publishes; nothing here invents one):

- ``crowd.forecasts`` ``CrowdForecastPublished``: walkers entering a zone per minute over one local day; the
  simulator publishes the day *without offers* at the start of each replayed day, which is the counterfactual
  a campaign is judged against (the campaign service plans on the same curve). The newest per zone and day.
- ``crowd.counts`` ``CrowdCountObserved``: walkers entering a zone in one minute, live (the simulator's replay
  with accepted offers applied, or sensors). Minutes are placed on the Japan-time day they fall in.

The curve is binned (``bin_minutes``, 5 by default) so a day is 288 points, each the mean walkers per minute
of its bin (live: of the bin's minutes that have a count, so the bin under way is not drawn as a drop).
Within the goal's window it also sums what was removed so far: over the window's minutes that have a live
count, the counterfactual minus the live count (persons). A minute with no count yet is ``null`` in the live
curve and counts for neither sum, so the removal is never claimed for minutes still to come.
"""

from __future__ import annotations

import threading
from array import array
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from shared.contracts import crowd
from shared.contracts.base import AnyTopic

TOPICS: tuple[AnyTopic, ...] = (crowd.FORECASTS, crowd.COUNTS)
TOKYO = ZoneInfo("Asia/Tokyo")
MINUTES = 1440
KEEP_DAYS = 7  # per zone; older days are dropped from the model
MISSING = -1


def _minute_of_day(moment: datetime) -> tuple[date, int]:
    local = moment.astimezone(TOKYO)
    return local.date(), local.hour * 60 + local.minute


def _minute(hhmm: str) -> int:
    t = time.fromisoformat(hhmm)
    return t.hour * 60 + t.minute


class CrowdCurves:
    """Per zone and day: the counterfactual (forecast) and the live counts, minute by minute."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._forecasts: dict[tuple[str, date], crowd.CrowdForecastPublished] = {}
        self._counts: dict[tuple[str, date], array[int]] = {}  # per minute, MISSING until counted

    def add(self, payload: object) -> None:
        with self._lock:
            if isinstance(payload, crowd.CrowdForecastPublished):
                self._forecasts[(payload.zone, payload.day)] = payload  # the newest forecast of a day stands
                self._trim(self._forecasts, payload.zone)
            elif isinstance(payload, crowd.CrowdCountObserved):
                day, minute = _minute_of_day(payload.minute_start)
                row = self._counts.get((payload.zone, day))
                if row is None:
                    row = self._counts[(payload.zone, day)] = array("q", [MISSING]) * MINUTES
                    self._trim(self._counts, payload.zone)
                row[minute] = payload.persons  # a redelivered minute is the same minute

    @staticmethod
    def _trim(held: dict[tuple[str, date], Any], zone: str) -> None:
        days = sorted(d for z, d in held if z == zone)
        for old in days[:-KEEP_DAYS]:
            del held[(zone, old)]

    def curve(self, zone: str, day: date, window: tuple[str, str], bin_minutes: int = 5) -> dict[str, Any]:
        """The binned curves of ``zone`` on ``day`` and what the window has lost against the counterfactual."""
        with self._lock:
            forecast = self._forecasts.get((zone, day))
            held = self._counts.get((zone, day))
            live = None if held is None else list(held)
        without = None if forecast is None else list(forecast.persons)
        starts = list(range(0, MINUTES, bin_minutes))
        a, b = _minute(window[0]), _minute(window[1])
        observed = [m for m in range(a, b) if live is not None and live[m] != MISSING]
        return {
            "place": zone, "day": day.isoformat(), "window": list(window), "bin_minutes": bin_minutes,
            "minutes": starts,
            "without_campaign": None if without is None else [_mean(without[m:m + bin_minutes]) for m in starts],
            "live": None if live is None else [_live_mean(live[m:m + bin_minutes]) for m in starts],
            "counterfactual_source": None if forecast is None else forecast.source,
            "window_minutes_observed": len(observed),
            "window_minutes": max(0, b - a),
            "window_without_campaign": None if without is None else sum(without[m] for m in observed),
            "window_live": None if live is None else sum(live[m] for m in observed),
            "removed_so_far": (None if without is None or live is None
                               else sum(without[m] - live[m] for m in observed)),
        }


def _mean(values: list[int]) -> float:
    return round(sum(values) / len(values), 2)


def _live_mean(values: list[int]) -> float | None:
    """The bin's live mean per minute over its counted minutes, or ``None`` while none has a count."""
    counted = [v for v in values if v != MISSING]
    return _mean(counted) if counted else None
