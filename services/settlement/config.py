"""The settlement service's own environment (``CITYMATCH_SETTLEMENT_*``).

- ``CITYMATCH_SETTLEMENT_ANCHOR_INTERVAL_SECONDS`` (5): how often the timer anchors the slots that are due.

The database, the signing key (``CITYMATCH_LEDGER_SIGNING_KEY``) and the public anchors file
(``CITYMATCH_LEDGER_ANCHORS_FILE``, which the gateway serves too) are the platform's (``shared.settings``).
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import EnvConfig


class SettlementConfig(EnvConfig):
    model_config = SettingsConfigDict(env_prefix="CITYMATCH_SETTLEMENT_")

    anchor_interval_seconds: float = Field(5.0, gt=0)
