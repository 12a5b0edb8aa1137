"""Builds the charging service and its charger gateway: from their configuration and adapters (tests), or
from the environment (``python -m services charging`` / ``charger-gateway``)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from services.charging.config import ChargingConfig
from services.charging.settings import ChargingSettings
from shared.runtime import Service
from shared.settings import Settings

if TYPE_CHECKING:
    from services.charging.adapters.charger_gateway import ChargerGateway


def build_charging(config: ChargingConfig | None = None, *, sites: ChargingSettings | None = None,
                   clock: Callable[[], datetime] | None = None) -> Service:
    """The planner over ``sites`` (default: the Ebina charger sites) with ``clock``."""
    from services.charging.service import build_service

    return build_service(sites or ChargingSettings(), clock=clock)


def open_charging(settings: Settings, config: ChargingConfig | None = None) -> Service:
    return build_charging(config or ChargingConfig.from_env())


def build_charger_gateway(settings: Settings, config: ChargingConfig | None = None, *,
                          sites: ChargingSettings | None = None) -> ChargerGateway:
    """The OCPP central system for the chargers of ``sites``, bridged to the settings' Kafka."""
    from services.charging.adapters.charger_gateway import ChargerGateway

    config = config or ChargingConfig()
    chargers = {c for site in (sites or ChargingSettings()).sites for c in site.chargers}
    return ChargerGateway(settings.kafka_bootstrap, chargers, config.ocpp_host, config.ocpp_port,
                          web_port=settings.web_port)


def run_charger_gateway(settings: Settings, config: ChargingConfig | None = None) -> int:
    """The OCPP central system plus its Kafka bridge, until stopped."""
    gateway = build_charger_gateway(settings, config or ChargingConfig.from_env())

    async def main() -> None:
        task = asyncio.ensure_future(gateway.run())
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())
    return 0
