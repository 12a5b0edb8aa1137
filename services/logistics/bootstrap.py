"""Builds the parcel-round service: over a drive network and a clock (tests), or over the shipped Ebina
drive network."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from services.logistics.config import LogisticsConfig
from shared.runtime import Service
from shared.settings import Settings

if TYPE_CHECKING:
    from shared.roads import RoadNetwork


def build_logistics(network: RoadNetwork, config: LogisticsConfig | None = None, *,
                    clock: Callable[[], datetime] | None = None) -> Service:
    """Parcel rounds from the shopping-centre depots on ``network``, re-planned as parcels arrive."""
    from services.logistics.service import LogisticsSettings, build_service

    if config is None:
        return build_service(network, None, clock=clock)
    settings = LogisticsSettings(fleet_depots=config.depots_for_fleet(),
                                 # parcels are delivered as often in simulated time on a faster clock
                                 housekeeping_s=max(2.0, LogisticsSettings.housekeeping_s / config.time_scale))
    if config.coowned_cars is not None:
        from services.logistics.settings import load_coowned_cars

        settings = replace(settings, coowned=load_coowned_cars(config.coowned_cars))
    if clock is None and (config.clock_start is not None or config.time_scale > 1):
        from shared.clock import scaled_clock

        clock = scaled_clock(config.time_scale, config.clock_start)
    return build_service(network, settings, clock=clock)


def open_logistics(settings: Settings, config: LogisticsConfig | None = None) -> Service:
    from shared.roads import load_drive_network

    return build_logistics(load_drive_network(), config or LogisticsConfig.from_env())
