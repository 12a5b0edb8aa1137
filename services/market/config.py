"""The market's own environment (``CITYMATCH_MARKET_*``); transport and secrets come from ``shared.settings``.

- ``CITYMATCH_MARKET_COMMUNITY``: a shipped community ("ebina", "higashi_fuji") or a YAML path; empty = an
  open market without a participant registry or grid prices.
- ``CITYMATCH_MARKET_ADMIT_UNREGISTERED``: with a community, still admit app users who are not in its
  registry (under the app-user allowances).
- ``CITYMATCH_MARKET_HORIZON_DAYS``: how far ahead the market takes orders, in days (0 = the market's default
  of two days). The gateway refuses orders beyond the same horizon (the composition root hands it over).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import EnvConfig


class MarketConfig(EnvConfig):
    model_config = SettingsConfigDict(env_prefix="CITYMATCH_MARKET_")

    community: str = ""
    admit_unregistered: bool = False
    horizon_days: int = Field(0, ge=0)

    def horizon(self, default: timedelta = timedelta(days=2)) -> timedelta:
        """How far ahead orders are taken: ``horizon_days``, or ``default`` when it is 0."""
        return timedelta(days=self.horizon_days) if self.horizon_days else default
