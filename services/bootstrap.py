"""The registry of services: each name points at the bootstrap of its own folder, which reads its own
configuration and opens its real adapters from the platform's settings (``python -m services <name>``,
``make up``, the end-to-end tests and the benchmarks all start services through here).

A bootstrap is named as ``"module:function"`` and imported only when that service starts, so a process
loads the code (and the libraries) of its own service only. The gateway is the one process handed another
service's read side: it gets the ledger's read views and the check against the market's trades from here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from shared.runtime import Service
from shared.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from services.gateway.city_live import ChargerSpec

Bootstrap = Callable[[Settings], Service]

SERVICES: dict[str, str] = {
    "market": "services.market.bootstrap:open_market",
    "settlement": "services.settlement.bootstrap:open_settlement",
    "city-sim": "simulator.bootstrap:open_city_sim",
    "city-monitor": "simulator.bootstrap:open_city_monitor",
    "incentives": "services.incentives.bootstrap:open_incentives",
    "mobility": "services.mobility.bootstrap:open_mobility",
    "logistics": "services.logistics.bootstrap:open_logistics",
    "charging": "services.charging.bootstrap:open_charging",
}


def bootstrap(name: str) -> Bootstrap:
    """The bootstrap function registered for ``name``."""
    try:
        target = SERVICES[name]
    except KeyError:
        raise SystemExit(f"unknown service {name!r}; choose one of: {', '.join(SERVICES)}, gateway, "
                         "charger-gateway") from None
    module, _, function = target.partition(":")
    return cast(Bootstrap, getattr(importlib.import_module(module), function))


def build(name: str, settings: Settings) -> Service:
    return bootstrap(name)(settings)


def gateway_app(settings: Settings) -> FastAPI:
    """The FastAPI app over Kafka and the ledger database (what `python -m services gateway` serves)."""
    from services.gateway.bootstrap import open_gateway
    from services.market.config import MarketConfig
    from services.settlement.views import open_reader

    ledger = open_reader(settings.database_url, check=False)  # read-only; not ready until the ledger answers

    def market_check() -> object:
        from services.settlement.adapters.market_trades import check_against_market

        return check_against_market(settings.database_url, settings.kafka_bootstrap)

    def campaign_check() -> object:
        from services.campaign_audit import campaign_check as check

        return check(settings.database_url, settings.kafka_bootstrap)

    return open_gateway(settings, ledger=ledger, market_check=market_check, campaign_check=campaign_check,
                        order_horizon=MarketConfig.from_env().horizon(), chargers=charger_specs())


def charger_specs() -> tuple[ChargerSpec, ...]:
    """The charging service's chargers (its sites' settings) and their power, for the gateway's live map."""
    from services.charging.settings import ChargingSettings
    from services.gateway.city_live import ChargerSpec

    return tuple(ChargerSpec(c, site.id, site.charger_kw) for site in ChargingSettings().sites for c in site.chargers)

