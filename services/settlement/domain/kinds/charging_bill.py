"""``charging_bill``: what a charger's meter delivered, paid by the car's owner to the charging site.

Ref = ``<charger>:<transaction id>`` (one bill per charging transaction); slot = the half hour the session
stopped in. The amount is metered kWh x the site's price, rounded once by the ledger's rule: what was
delivered is what is billed, not what was planned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from services.settlement.domain.kinds.payments import PaymentKind, utc_time
from services.settlement.domain.money import amount_sen, kwh_to_wh, wh_to_kwh
from services.settlement.domain.postings import JPY, participant_account, site_account

NAME = "charging_bill"


@dataclass(frozen=True)
class ChargingBill:
    charger: str
    transaction_id: int
    owner: str
    site: str
    wh: int
    price_yen_per_kwh: Decimal
    stopped_at: datetime

    @property
    def ref(self) -> str:
        return f"{self.charger}:{self.transaction_id}"

    @property
    def when(self) -> datetime:
        return self.stopped_at

    @property
    def amount_sen(self) -> int:
        return amount_sen(wh_to_kwh(self.wh), self.price_yen_per_kwh)

    def problem(self) -> str | None:
        if self.wh < 0:
            return "metered energy must not be negative"
        if self.price_yen_per_kwh < 0:
            return "a charging price must not be negative"
        return None

    def legs(self) -> list[list[Any]]:
        sen = self.amount_sen
        if sen == 0:
            return []
        return [[participant_account(self.owner), JPY, -sen, "charging"],
                [site_account(self.site), JPY, sen, "charging"]]

    def parties(self) -> frozenset[str]:
        return frozenset({self.owner})

    def to_json(self) -> dict[str, Any]:
        return {"charger": self.charger, "transaction_id": self.transaction_id, "owner": self.owner,
                "site": self.site, "wh": self.wh, "price_yen_per_kwh": str(self.price_yen_per_kwh),
                "stopped_at": self.stopped_at.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChargingBill:
        return cls(str(data["charger"]), int(data["transaction_id"]), str(data["owner"]), str(data["site"]),
                   int(data["wh"]), Decimal(data["price_yen_per_kwh"]), utc_time(data["stopped_at"]))

    @classmethod
    def metered(cls, charger: str, transaction_id: int, owner: str, site: str, kwh: Decimal,
                price_yen_per_kwh: Decimal, stopped_at: datetime) -> ChargingBill:
        return cls(charger, transaction_id, owner, site, kwh_to_wh(kwh), price_yen_per_kwh, stopped_at)


class ChargingBillKind(PaymentKind):
    name: ClassVar[str] = NAME
    posting_kinds: ClassVar[tuple[str, ...]] = ("charging",)
    fact_type = ChargingBill
