"""Renewable-share targets chosen by users, met in the seed's order: A, then B, then C.

A: renewable kWh from on-site PV over the private line (tier A trades); B: renewable kWh bought in the
community market over the grid (tier B); C: environmental-value certificates bought after the fact for
whatever is still missing. ``plan_target`` answers "how much from where" ahead of a period;
``settle_target`` proves, after it, which local sources were used and how many certificates close the gap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from shared.units import KWH_Q

ZERO = Decimal(0)


class SettledTrade(Protocol):
    """What the target rules read of a trade (a ``TradeMatched`` or a ledger trade row alike)."""

    @property
    def buyer(self) -> str: ...
    @property
    def tier(self) -> str: ...
    @property
    def renewable(self) -> bool: ...
    @property
    def kwh(self) -> Decimal: ...


@dataclass(frozen=True)
class TargetPlan:
    consumption_kwh: Decimal
    target_kwh: Decimal
    from_a_kwh: Decimal
    from_b_kwh: Decimal
    certificates_kwh: Decimal

    @property
    def local_share(self) -> Decimal:
        """Share of consumption covered by local renewable energy (A + B), 0..1."""
        if self.consumption_kwh <= 0:
            return ZERO
        return (self.from_a_kwh + self.from_b_kwh) / self.consumption_kwh

    @property
    def met(self) -> bool:
        return self.from_a_kwh + self.from_b_kwh + self.certificates_kwh >= self.target_kwh


def _check(consumption_kwh: Decimal, share: Decimal) -> Decimal:
    if consumption_kwh < 0:
        raise ValueError("consumption must not be negative")
    if not ZERO <= share <= 1:
        raise ValueError("the renewable target share must be within 0..1")
    return (consumption_kwh * share).quantize(KWH_Q)


def plan_target(consumption_kwh: Decimal, share: Decimal, a_available_kwh: Decimal,
                b_available_kwh: Decimal) -> TargetPlan:
    """Take on-site renewable first, then community renewable, and certificates for the rest."""
    target = _check(consumption_kwh, share)
    a = min(target, max(ZERO, a_available_kwh))
    b = min(target - a, max(ZERO, b_available_kwh))
    return TargetPlan(consumption_kwh, target, a, b, target - a - b)


def settle_target(participant: str, trades: Iterable[SettledTrade], consumption_kwh: Decimal,
                  share: Decimal) -> TargetPlan:
    """After a period: renewable kWh the participant bought on tier A and B, certificates for the gap."""
    target = _check(consumption_kwh, share)
    a = b = ZERO
    for t in trades:
        if t.buyer != participant or not t.renewable:
            continue
        if t.tier == "A":
            a += t.kwh
        elif t.tier == "B":
            b += t.kwh
    a = min(a, target)
    b = min(b, target - a)
    return TargetPlan(consumption_kwh, target, a, b, target - a - b)
