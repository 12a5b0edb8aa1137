"""``fare``: a ride paid by its rider, the payout to the vehicle's operator, the rest to the platform.

Ref = the ride request id (one fare per ride, ever); slot = the half hour of the drop-off. The payout may not
exceed the fare, so the platform's share is never negative.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, ClassVar

from services.settlement.domain.kinds.payments import PaymentKind, split_legs, split_problem, utc_time
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
        return split_problem(self.fare_sen, self.payout_sen, "fare")

    def legs(self) -> list[list[Any]]:
        return split_legs(participant_account(self.rider), fleet_account(self.operator), PLATFORM, JPY,
                          self.fare_sen, self.payout_sen, "fare")

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
