"""The campaign service's own environment (``CITYMATCH_INCENTIVES_*``).

- ``CITYMATCH_INCENTIVES_ROUND_SECONDS`` (300): wall time between a campaign's rounds of offers.
- ``CITYMATCH_INCENTIVES_CODE_SECRET``: the key of its redemption codes (HMAC), at least 16 characters;
  the development default is refused in production.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import EnvConfig, Settings, refuse_in_production

DEV_CODE_SECRET = "dev-only-redemption-secret"


class IncentivesConfig(EnvConfig):
    model_config = SettingsConfigDict(env_prefix="CITYMATCH_INCENTIVES_")

    round_seconds: float = Field(300.0, gt=0)
    code_secret: str = Field(DEV_CODE_SECRET, min_length=16, repr=False)

    def check(self, settings: Settings) -> None:
        """Refuse the development code secret in production."""
        refuse_in_production(settings, self.code_secret, DEV_CODE_SECRET, self.variable("code_secret"))
