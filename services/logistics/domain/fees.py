"""What a delivered parcel costs its sender and what the courier's operator is paid of it.

A base fee plus a fee per started kilogram (the courier's effort grows with weight, and the sender knows the
weight when booking, so the price is known in advance); the operator's payout is a fixed share, rounded down
to the yen, so the platform's share is never negative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class FeeRule:
    base_yen: int = 350
    per_kg_yen: int = 30
    payout_share: float = 0.8

    def __post_init__(self) -> None:
        if self.base_yen < 0 or self.per_kg_yen < 0 or not 0 <= self.payout_share <= 1:
            raise ValueError("fees must not be negative and the payout share must be within 0..1")


def delivery_fee(weight_kg: float, rule: FeeRule | None = None) -> tuple[int, int]:
    """(fee, payout) in yen for a parcel of ``weight_kg``."""
    rule = rule or FeeRule()
    fee = rule.base_yen + rule.per_kg_yen * max(1, math.ceil(weight_kg))
    return fee, math.floor(fee * rule.payout_share)
