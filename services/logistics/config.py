"""Logistics' own environment (``CITYMATCH_LOGISTICS_*``): nothing to set yet. Its depots, couriers, search
time and the co-owned cars it may lend (``settings.CoownedCar``) are ``service.LogisticsSettings``; a knob that
operators need goes here, under that prefix."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import EnvConfig


class LogisticsConfig(EnvConfig):
    model_config = SettingsConfigDict(env_prefix="CITYMATCH_LOGISTICS_")
