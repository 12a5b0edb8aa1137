"""Wires the charging service and its charger gateway to real adapters from settings."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from services.charging.config import GatewayConfig
from services.charging.settings import ChargingSettings
from shared.runtime import Service
from shared.settings import Settings


def charging_service(settings: Settings) -> Service:
    from services.charging.service import build_service

    return build_service(ChargingSettings())


def run_charger_gateway(settings: Settings) -> int:
    """The OCPP central system plus its Kafka bridge, until stopped."""
    from services.charging.adapters.charger_gateway import ChargerGateway

    config = GatewayConfig.from_env()
    chargers = {c for site in ChargingSettings().sites for c in site.chargers}
    gateway = ChargerGateway(settings.kafka_bootstrap, chargers, config.ocpp_host, config.ocpp_port,
                             web_port=settings.web_port)

    async def main() -> None:
        task = asyncio.ensure_future(gateway.run())
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())
    return 0
