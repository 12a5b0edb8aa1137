"""Builds the live simulator's two services: the simulated city (``city-sim``) and the city monitor
(``city-monitor``), from their configuration and inputs (tests), or from the environment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.runtime import Service
from shared.settings import Settings
from simulator.config import CityMonitorConfig, CitySimConfig

if TYPE_CHECKING:
    from simulator.monitor import SeasonalBaseline
    from simulator.scenario import Scenario


def build_city_sim(config: CitySimConfig | None = None, *, scenario: Scenario | None = None) -> Service:
    """The simulated city, live: publishes crowd counts minute by minute, answers incentive offers and asks
    the ride service for its riders' rides.
    ``scenario`` replaces the configured one (a test's own)."""
    from simulator.live import build_simulator_service

    config = config or CitySimConfig()
    start = config.start.hour * 60 + config.start.minute if config.start else 0
    return build_simulator_service(scenario or config.scenario, agents=config.agents, start_minute=start,
                                   ride_requests=config.ride_requests)


def open_city_sim(settings: Settings, config: CitySimConfig | None = None) -> Service:
    return build_city_sim(config or CitySimConfig.from_env())


def build_city_monitor(baselines: dict[str, SeasonalBaseline], config: CityMonitorConfig | None = None) -> Service:
    """The city's eye: anomalies in crowd counts against ``baselines`` (a seasonal baseline per zone)."""
    from simulator.live import build_monitor_service

    return build_monitor_service(baselines, threshold=(config or CityMonitorConfig()).threshold)


def open_city_monitor(settings: Settings, config: CityMonitorConfig | None = None) -> Service:
    """The monitor with baselines learnt from simulated normal days."""
    from simulator.live import baselines_from_simulation

    return build_city_monitor(baselines_from_simulation(), config or CityMonitorConfig.from_env())
