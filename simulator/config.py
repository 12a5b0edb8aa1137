"""The live simulator's environment: the simulated city (``CITYMATCH_SIM_*``) and the city monitor
(``CITYMATCH_MONITOR_*``).

- ``CITYMATCH_SIM_SCENARIO`` (ebina_weekday): the scenario the live city replays (a shipped name or a YAML path).
- ``CITYMATCH_SIM_AGENTS`` (20000): people it simulates (crowd counts, forecasts, answers to offers, ride
  requests).
- ``CITYMATCH_SIM_START`` (unset): ``HH:MM``, the minute of the simulated day its replay starts at (unset:
  midnight); a test or demo then sees the day's riders without replaying the night first.
- ``CITYMATCH_SIM_RIDE_REQUESTS`` (true): ask the ride service for the simulated riders' rides.
- ``CITYMATCH_MONITOR_THRESHOLD`` (5): robust z-score above which a count is reported as an anomaly.
"""

from __future__ import annotations

from datetime import time

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import EnvConfig


class CitySimConfig(EnvConfig):
    model_config = SettingsConfigDict(env_prefix="CITYMATCH_SIM_")

    scenario: str = "ebina_weekday"
    agents: int = Field(20_000, ge=1)
    start: time | None = None
    ride_requests: bool = True


class CityMonitorConfig(EnvConfig):
    model_config = SettingsConfigDict(env_prefix="CITYMATCH_MONITOR_")

    threshold: float = Field(5.0, gt=0)
