"""Mobility's own environment (``CITYMATCH_MOBILITY_*``).

- ``CITYMATCH_MOBILITY_TIME_SCALE`` (1): its clock runs this many times faster than the wall clock (more for
  demos and end-to-end tests, where a 10-minute ride then takes seconds).
- ``CITYMATCH_MOBILITY_CLOCK_START`` (unset): ``HH:MM``, Japan time: its clock starts today at this time instead of
  now (a fast demo or test then runs in the fleet's working hours, whatever the hour it is started at).
- ``CITYMATCH_MOBILITY_COOWNED_GROUPS`` (unset): a JSON file of co-owning groups (members with their shares,
  cars with instalment and insurance, prices; see ``services.mobility.coowned.load_groups``); unset: the Ebina
  group of the co-owned report.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import EnvConfig


class MobilityConfig(EnvConfig):
    model_config = SettingsConfigDict(env_prefix="CITYMATCH_MOBILITY_")

    time_scale: int = Field(1, ge=1)
    clock_start: time | None = None
    coowned_groups: Path | None = None
