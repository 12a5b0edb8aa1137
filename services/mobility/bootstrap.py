"""Builds the ride-dispatch service: over a drive network and a clock (tests), or over the shipped Ebina
drive network with the configured time scale."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from services.mobility.config import MobilityConfig
from shared.runtime import Service
from shared.settings import Settings

if TYPE_CHECKING:
    from shared.roads import RoadNetwork


def build_mobility(network: RoadNetwork, config: MobilityConfig | None = None, *,
                   clock: Callable[[], datetime] | None = None) -> Service:
    """Ride dispatch on ``network``; the clock runs ``config.time_scale`` times faster than ``clock``'s
    wall time unless a clock is given."""
    from services.mobility.service import build_service
    from services.mobility.settings import MobilitySettings
    from shared.clock import scaled_clock

    config = config or MobilityConfig()
    scale = config.time_scale
    # Re-plan once a simulated minute, but not more often than every two seconds of wall time.
    tuned = MobilitySettings(reopt_interval_s=max(2.0, 60.0 / scale))
    groups = None
    if config.coowned_groups is not None:
        from services.mobility.coowned import load_groups

        groups = load_groups(config.coowned_groups)
    return build_service(network, tuned, clock=clock or scaled_clock(scale, config.clock_start), groups=groups)


def open_mobility(settings: Settings, config: MobilityConfig | None = None) -> Service:
    from shared.roads import load_drive_network

    return build_mobility(load_drive_network(), config or MobilityConfig.from_env())
