"""The charging service's own environment: where its charger gateway listens for OCPP.

``CITYMATCH_CHARGING_OCPP_HOST`` (default 127.0.0.1) and ``CITYMATCH_CHARGING_OCPP_PORT`` (default 9310).
Kafka and the web port come from the platform's settings (``shared.settings``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from shared.errors import ConfigError


@dataclass(frozen=True)
class GatewayConfig:
    ocpp_host: str = "127.0.0.1"
    ocpp_port: int = 9310

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> GatewayConfig:
        env = dict(os.environ if env is None else env)
        raw = env.get("CITYMATCH_CHARGING_OCPP_PORT", str(cls.ocpp_port))
        try:
            port = int(raw)
        except ValueError:
            raise ConfigError(f"CITYMATCH_CHARGING_OCPP_PORT must be an integer, not {raw!r}") from None
        if not 0 <= port <= 65535:
            raise ConfigError("CITYMATCH_CHARGING_OCPP_PORT must be within 0..65535")
        return cls(env.get("CITYMATCH_CHARGING_OCPP_HOST", cls.ocpp_host), port)
