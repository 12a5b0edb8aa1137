"""The charging service's own environment (``CITYMATCH_CHARGING_*``): where its charger gateway listens for OCPP.

- ``CITYMATCH_CHARGING_OCPP_HOST`` (127.0.0.1) and ``CITYMATCH_CHARGING_OCPP_PORT`` (9310).

Kafka and the web port come from the platform's settings (``shared.settings``); sites, tariffs and the
planning horizon are ``settings.ChargingSettings``.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import EnvConfig


class ChargingConfig(EnvConfig):
    model_config = SettingsConfigDict(env_prefix="CITYMATCH_CHARGING_")

    ocpp_host: str = "127.0.0.1"
    ocpp_port: int = Field(9310, ge=0, le=65535)
