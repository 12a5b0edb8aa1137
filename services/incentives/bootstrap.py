"""Builds the campaign service: from its configuration and a clock (tests), or from the environment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from services.incentives.config import IncentivesConfig
from services.incentives.settings import IncentiveSettings
from shared.runtime import Service
from shared.settings import Settings


def build_incentives(config: IncentivesConfig | None = None, *, clock: Callable[[], datetime] | None = None,
                     tuning: IncentiveSettings | None = None) -> Service:
    """Incentive campaigns: rounds of offers chosen by the optimiser, answers, one-time redemptions.
    ``tuning`` holds the rest of the service's settings (horizon, seed, ...), defaults otherwise."""
    from services.incentives.service import build_service

    config = config or IncentivesConfig()
    settings = replace(tuning or IncentiveSettings(), code_secret=config.code_secret,
                       round_seconds=config.round_seconds)
    return build_service(settings, clock=clock)


def open_incentives(settings: Settings, config: IncentivesConfig | None = None) -> Service:
    config = config or IncentivesConfig.from_env()
    config.check(settings)
    return build_incentives(config)
