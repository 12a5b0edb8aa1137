"""Builds the market service: from its configuration and adapters (tests, the demo), or from the environment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from services.market.config import MarketConfig
from shared.runtime import Service
from shared.settings import Settings

if TYPE_CHECKING:
    from services.market.domain.community import Community


def build_market(config: MarketConfig | None = None, *, community: Community | None = None,
                 clock: Callable[[], datetime] | None = None) -> Service:
    """The market over ``community`` (participants, grid prices; ``None`` = an open market) and ``clock``."""
    from services.market.service import build_service
    from services.market.settings import MarketSettings

    config = config or MarketConfig()
    horizon = config.horizon(default=MarketSettings().horizon)
    if community is None:
        return build_service(MarketSettings(horizon=horizon), clock)
    settings: MarketSettings = community.market_settings(admit_unregistered=config.admit_unregistered,
                                                         horizon=horizon)
    return build_service(settings, clock)


def open_market(settings: Settings, config: MarketConfig | None = None) -> Service:
    """The market as ``python -m services market`` runs it: its community file read from the configuration."""
    config = config or MarketConfig.from_env()
    community = None
    if config.community:
        from services.market.adapters.community_yaml import load_community

        community = load_community(config.community)
    return build_market(config, community=community)
