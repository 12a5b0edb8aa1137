"""``delivery_fee``: a delivered parcel paid by its sender, the payout to the courier's operator, the rest to the
platform.

Ref = the parcel id (one fee per parcel, ever: a parcel reported delivered twice pays once); slot = the half
hour of the hand-over. The split is the same as a ride's fare (``payments.split_legs``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, ClassVar

from services.settlement.domain.kinds.payments import PaymentKind, split_legs, split_problem, utc_time
from services.settlement.domain.money import SEN_PER_YEN
from services.settlement.domain.postings import JPY, PLATFORM, fleet_account, participant_account

NAME = "delivery_fee"


@dataclass(frozen=True)
class DeliveryFee:
    parcel_id: str
    sender: str
    courier: str
    operator: str
    fee_sen: int
    payout_sen: int
    delivered_at: datetime

    @classmethod
    def from_event(cls, event: Any) -> DeliveryFee:
        """From a delivered parcel (duck-typed: the domain never imports the contract package)."""
        return cls(event.parcel_id, event.sender, event.courier, event.operator, int(event.fee_yen) * SEN_PER_YEN,
                   int(event.payout_yen) * SEN_PER_YEN, event.delivered_at)

    @property
    def ref(self) -> str:
        return self.parcel_id

    @property
    def when(self) -> datetime:
        return self.delivered_at

    def problem(self) -> str | None:
        return split_problem(self.fee_sen, self.payout_sen, "delivery fee")

    def legs(self) -> list[list[Any]]:
        return split_legs(participant_account(self.sender), fleet_account(self.operator), PLATFORM, JPY,
                          self.fee_sen, self.payout_sen, "delivery_fee")

    def parties(self) -> frozenset[str]:
        return frozenset({self.sender})

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "delivered_at": self.delivered_at.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeliveryFee:
        return cls(str(data["parcel_id"]), str(data["sender"]), str(data["courier"]), str(data["operator"]),
                   int(data["fee_sen"]), int(data["payout_sen"]), utc_time(data["delivered_at"]))


class DeliveryFeeKind(PaymentKind):
    name: ClassVar[str] = NAME
    posting_kinds: ClassVar[tuple[str, ...]] = ("delivery_fee", "payout", "platform_fee")
    fact_type = DeliveryFee
