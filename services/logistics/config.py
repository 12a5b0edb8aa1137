"""Logistics' own environment (``CITYMATCH_LOGISTICS_*``). Its depots, couriers and search time are
``service.LogisticsSettings``; a knob that operators need goes here, under that prefix.

- ``CITYMATCH_LOGISTICS_COOWNED_CARS`` (unset): a JSON file of the co-owned cars it may lend as couriers (see
  ``services.logistics.settings.load_coowned_cars``; ``[]`` for none); unset: the Ebina group's two EVs. Keep it
  in step with mobility's ``CITYMATCH_MOBILITY_COOWNED_GROUPS``: the group's book decides every hold.
- ``CITYMATCH_LOGISTICS_CLOCK_START`` (unset): ``HH:MM``, Japan time: its clock starts today at this time instead of
  now. Give it the same time as ``CITYMATCH_MOBILITY_CLOCK_START`` (at mobility's time scale 1): the ride
  vehicles' idle hours it plans rounds in are on mobility's clock.
- ``CITYMATCH_LOGISTICS_TIME_SCALE`` (1): its clock runs this many times faster (a demo or an end-to-end test sees
  parcels delivered in seconds); its housekeeping runs as often in simulated time.
- ``CITYMATCH_LOGISTICS_FLEET_DEPOTS`` (``lalaport,vinawalk``): the depots whose rounds may go on the ride fleet's
  vehicles between their rides; ``none`` for none (only couriers and the co-owned cars).
"""

from __future__ import annotations

from datetime import time
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import EnvConfig


class LogisticsConfig(EnvConfig):
    model_config = SettingsConfigDict(env_prefix="CITYMATCH_LOGISTICS_")

    coowned_cars: Path | None = None
    clock_start: time | None = None
    time_scale: int = Field(1, ge=1, le=3600)
    fleet_depots: str = "lalaport,vinawalk"

    @field_validator("fleet_depots")
    @classmethod
    def _depots(cls, value: str) -> str:
        names = [n.strip() for n in value.split(",")]
        if value.strip().lower() != "none" and not all(n and n.replace("-", "").replace("_", "").isalnum()
                                                       for n in names):
            raise ValueError("must be depot names separated by commas (e.g. lalaport,vinawalk), or none")
        return value

    def depots_for_fleet(self) -> tuple[str, ...]:
        return () if self.fleet_depots.strip().lower() == "none" else tuple(
            n.strip() for n in self.fleet_depots.split(","))
