"""Logistics' own environment (``CITYMATCH_LOGISTICS_*``). Its depots, couriers and search time are
``service.LogisticsSettings``; a knob that operators need goes here, under that prefix.

- ``CITYMATCH_LOGISTICS_COOWNED_CARS`` (unset): a JSON file of the co-owned cars it may lend as couriers (see
  ``services.logistics.settings.load_coowned_cars``; ``[]`` for none); unset: the Ebina group's two EVs. Keep it
  in step with mobility's ``CITYMATCH_MOBILITY_COOWNED_GROUPS``: the group's book decides every hold.
- ``CITYMATCH_LOGISTICS_CLOCK_START`` (unset): ``HH:MM``, Japan time: its clock starts today at this time instead of
  now. Give it the same time as ``CITYMATCH_MOBILITY_CLOCK_START`` (at mobility's time scale 1): the ride
  vehicles' idle hours it plans rounds in are on mobility's clock.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from shared.settings import EnvConfig


class LogisticsConfig(EnvConfig):
    model_config = SettingsConfigDict(env_prefix="CITYMATCH_LOGISTICS_")

    coowned_cars: Path | None = None
    clock_start: time | None = None
