"""Mobility's own environment (``CITYMATCH_MOBILITY_*``).

- ``CITYMATCH_MOBILITY_TIME_SCALE`` (1): its clock runs this many times faster than the wall clock (more for
  demos and end-to-end tests, where a 10-minute ride then takes seconds).
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import EnvConfig


class MobilityConfig(EnvConfig):
    model_config = SettingsConfigDict(env_prefix="CITYMATCH_MOBILITY_")

    time_scale: int = Field(1, ge=1)
