"""A participant's progress to a renewable share, read from its settled trades on the ledger.

The rules (on-site first, then community, then certificates) live in the market's target core; this module
only turns the ledger's trade rows into what that core reads and shapes the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.gateway.schemas.ledger import RenewableTarget
from services.market.domain.targets import settle_target


@dataclass(frozen=True)
class _TradeView:
    """A settled trade as the target rules read it (buyer, tier, renewable, kWh)."""

    participant: str
    row: dict[str, Any]

    @property
    def buyer(self) -> str:
        return self.participant if self.row["role"] == "buyer" else self.row["buyer"]

    @property
    def tier(self) -> str:
        return self.row["tier"]

    @property
    def renewable(self) -> bool:
        return bool(self.row["renewable"])

    @property
    def kwh(self) -> Decimal:
        return Decimal(self.row["kwh"])


def renewable_target(participant: str, trades: list[dict[str, Any]], share: Decimal,
                     retired: Decimal | None) -> RenewableTarget:
    """Progress to ``share`` of what ``participant`` bought; ``retired`` = certificates already retired for it."""
    bought = [t for t in trades if t["role"] == "buyer"]
    consumption = sum((Decimal(t["kwh"]) for t in bought), Decimal(0))
    plan = settle_target(participant, [_TradeView(participant, t) for t in bought], consumption, share)
    still = max(Decimal(0), plan.certificates_kwh - (retired or 0))
    return RenewableTarget(share=share, consumption_kwh=plan.consumption_kwh, target_kwh=plan.target_kwh,
                           from_on_site_kwh=plan.from_a_kwh, from_community_kwh=plan.from_b_kwh,
                           certificates_needed_kwh=plan.certificates_kwh, certificates_retired_kwh=retired,
                           still_to_cover_kwh=still, met=still == 0)
