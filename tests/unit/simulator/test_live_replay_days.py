"""The live city simulator runs past midnight: the next day replays the same counts, stamped with the next
day's times, and starts with that day's forecast."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shared.contracts.crowd import COUNTS, FORECASTS
from simulator.live import build_simulator_service

JST = timezone(timedelta(hours=9))


def test_the_second_day_is_stamped_with_its_own_date() -> None:
    day = datetime(2026, 11, 27, tzinfo=JST)
    sim = build_simulator_service("ebina_weekday", agents=1000, day=day)
    first = list(sim.timers[0].tick())
    for _ in range(1439):
        sim.timers[0].tick()
    second = list(sim.timers[0].tick())
    forecasts = [o.payload for o in second if o.topic == FORECASTS]
    counts = [o.payload for o in second if o.topic == COUNTS]
    assert forecasts and {f.day for f in forecasts} == {(day + timedelta(days=1)).date()}
    assert {c.minute_start for c in counts} == {day + timedelta(days=1)}
    assert [c.persons for c in counts] == [o.payload.persons for o in first if o.topic == COUNTS]
