"""Fares and payouts in whole yen (integers, never floats): what a rider pays and what the vehicle's
operator is paid for the ride, the two ledger entries each ride settles as."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FarePolicy:
    """Per kind of vehicle: a flag-fall, a price per started 100 m of the direct trip, and a discount
    for each extra rider of a party; the operator keeps ``payout_share_pct`` of the fare."""

    base_yen: dict[str, int] | None = None
    per_100m_yen: dict[str, int] | None = None
    extra_rider_yen: int = 100
    payout_share_pct: int = 80

    def _base(self, kind: str) -> int:
        return (self.base_yen or {"shuttle": 200, "taxi": 500, "carshare": 300}).get(kind, 300)

    def _per_100m(self, kind: str) -> int:
        return (self.per_100m_yen or {"shuttle": 5, "taxi": 40, "carshare": 15}).get(kind, 15)

    def fare_yen(self, direct_m: int, party: int, kind: str) -> int:
        if direct_m < 0 or party < 1:
            raise ValueError("direct distance must be >= 0 and party at least 1")
        started_100m = -(-direct_m // 100)
        return self._base(kind) + self._per_100m(kind) * started_100m + self.extra_rider_yen * (party - 1)

    def payout_yen(self, fare_yen: int) -> int:
        """The operator's share, rounded down to the yen; the platform keeps the rest."""
        return fare_yen * self.payout_share_pct // 100
