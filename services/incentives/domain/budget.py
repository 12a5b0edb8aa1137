"""What a campaign has committed: paid, owed and expected, and what a round may still spend.

An offer costs only when redeemed, so the expected spend counts each open offer at its acceptance
probability; the worst case counts it at face value. The optimiser gets both remainders, so even if
every open offer were accepted and redeemed, the total stays within the guard.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.incentives.domain.campaign import Budget


@dataclass
class BudgetBook:
    budget: Budget
    paid_yen: int = 0
    open_offers: dict[str, tuple[int, float]] = field(default_factory=dict)  # offer -> (face yen, P(accept))
    accepted_unpaid: dict[str, int] = field(default_factory=dict)  # accepted, not yet redeemed
    paid_offers: dict[str, int] = field(default_factory=dict)  # offer -> yen paid

    def issue(self, offer_id: str, face_yen: int, probability: float) -> None:
        self.open_offers[offer_id] = (face_yen, probability)

    def accepted(self, offer_id: str) -> None:
        face, _p = self.open_offers.pop(offer_id, (0, 0.0))
        if face:
            self.accepted_unpaid[offer_id] = face

    def closed(self, offer_id: str) -> None:
        """Declined, expired, or an accepted offer that lapsed unredeemed: it can no longer cost."""
        self.open_offers.pop(offer_id, None)
        self.accepted_unpaid.pop(offer_id, None)

    def redeemed(self, offer_id: str, yen: int) -> None:
        """Paid once per offer, however often the redemption is read."""
        if offer_id in self.paid_offers:
            return
        self.accepted_unpaid.pop(offer_id, None)
        self.open_offers.pop(offer_id, None)
        self.paid_offers[offer_id] = yen
        self.paid_yen += yen

    @property
    def expected_committed(self) -> float:
        return (self.paid_yen + sum(self.accepted_unpaid.values())
                + sum(face * p for face, p in self.open_offers.values()))

    @property
    def worst_case_committed(self) -> int:
        return self.paid_yen + sum(self.accepted_unpaid.values()) + sum(f for f, _ in self.open_offers.values())

    def remaining_expected(self) -> float:
        return max(self.budget.daily_yen - self.expected_committed, 0.0)

    def remaining_worst_case(self) -> int:
        return max(self.budget.guard_yen - self.worst_case_committed, 0)
