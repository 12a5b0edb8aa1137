"""``fare``: a ride paid by its rider, the payout to the vehicle's operator, the rest to the platform.

Ref = the ride request id (one fare per ride, ever); slot = the half hour of the drop-off. The payout may not
exceed the fare, so the platform's share is never negative.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, ClassVar

from services.settlement.domain.kinds.payments import PaymentKind, utc_time
from services.settlement.domain.money import SEN_PER_YEN
from services.settlement.domain.postings import JPY, PLATFORM, fleet_account, participant_account

NAME = "fare"


@dataclass(frozen=True)
class Fare:
    request_id: str
    rider: str
    vehicle: str
    operator: str
    fare_sen: int
    payout_sen: int
    dropped_off_at: datetime

    @classmethod
    def from_event(cls, event: Any) -> Fare:
        """From a completed ride (duck-typed: the domain never imports the contract package)."""
        return cls(event.request_id, event.rider, event.vehicle, event.operator, int(event.fare_yen) * SEN_PER_YEN,
                   int(event.payout_yen) * SEN_PER_YEN, event.dropped_off_at)

    @property
    def ref(self) -> str:
        return self.request_id

    @property
    def when(self) -> datetime:
        return self.dropped_off_at

    def problem(self) -> str | None:
        if self.fare_sen < 0 or self.payout_sen < 0:
            return "a fare and its payout must not be negative"
        if self.payout_sen > self.fare_sen:
            return "a ride's payout must not exceed its fare"
        return None

    def legs(self) -> list[list[Any]]:
        legs = [[participant_account(self.rider), JPY, -self.fare_sen, "fare"],
                [fleet_account(self.operator), JPY, self.payout_sen, "payout"],
                [PLATFORM, JPY, self.fare_sen - self.payout_sen, "platform_fee"]]
        return [leg for leg in legs if leg[2] != 0]

    def parties(self) -> frozenset[str]:
        return frozenset({self.rider})

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "dropped_off_at": self.dropped_off_at.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fare:
        return cls(str(data["request_id"]), str(data["rider"]), str(data["vehicle"]), str(data["operator"]),
                   int(data["fare_sen"]), int(data["payout_sen"]), utc_time(data["dropped_off_at"]))


class FareKind(PaymentKind):
    name: ClassVar[str] = NAME
    posting_kinds: ClassVar[tuple[str, ...]] = ("fare", "payout", "platform_fee")
    fact_type = Fare
