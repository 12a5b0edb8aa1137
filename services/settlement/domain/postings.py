"""How one trade becomes balanced postings: money in sen and energy in Wh, each summing to zero.

Accounts are plain strings: ``participant:<id>`` for market participants, ``operator:grid`` for the grid
operator who is owed the wheeling fee, ``operator:platform`` for the platform fee; ``campaign:<id>``,
``sponsor:<operator>``, ``fleet:<operator>`` and ``site:<site>`` for the payment kinds (rewards, fares,
charging bills). A positive amount is
money or energy received by the account, a negative one is paid or delivered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from services.settlement.domain.money import FeeSchedule, amount_sen, kwh_to_wh

JPY = "JPY"  # amounts in sen
KWH = "kWh"  # amounts in Wh
GRID_OPERATOR = "operator:grid"
PLATFORM = "operator:platform"

Commodity = Literal["JPY", "kWh"]


def participant_account(participant: str) -> str:
    return f"participant:{participant}"


def campaign_account(campaign_id: str) -> str:
    """The account an incentive campaign pays its rewards from (funded by its sponsor)."""
    return f"campaign:{campaign_id}"


def sponsor_account(operator: str) -> str:
    """A station-area operator who funds incentive campaigns."""
    return f"sponsor:{operator}"


def fleet_account(operator: str) -> str:
    """A vehicle operator who is paid for rides its vehicles drive."""
    return f"fleet:{operator}"


def site_account(site: str) -> str:
    """A charging site (its owner is paid for the energy its chargers deliver)."""
    return f"site:{site}"


@dataclass(frozen=True)
class Posting:
    """One leg of an entry: ``amount`` (sen for JPY, Wh for kWh) moves into ``account``."""

    account: str
    commodity: str
    amount: int
    kind: str  # energy | wheeling | platform_fee | delivery

    def to_json(self) -> list[Any]:
        return [self.account, self.commodity, self.amount, self.kind]

    @classmethod
    def from_json(cls, row: list[Any]) -> Posting:
        account, commodity, amount, kind = row
        return cls(account, commodity, int(amount), kind)


@dataclass(frozen=True)
class TradeFact:
    """The part of a matched trade the ledger settles, in canonical form (UTC slot, Decimals)."""

    trade_id: str
    slot: datetime
    seller: str
    buyer: str
    kwh: Decimal
    price: Decimal
    tier: str
    wheeling_fee: Decimal
    renewable: bool
    seller_site: str | None = None
    buyer_site: str | None = None

    @classmethod
    def from_event(cls, trade: Any) -> TradeFact:
        """From a ``shared.contracts.energy.TradeMatched`` (duck-typed to keep the core free of the transport)."""
        return cls(
            trade_id=trade.trade_id, slot=trade.slot.astimezone(UTC), seller=trade.seller, buyer=trade.buyer,
            kwh=Decimal(trade.kwh), price=Decimal(trade.price), tier=trade.tier,
            wheeling_fee=Decimal(trade.wheeling_fee), renewable=bool(trade.renewable),
            seller_site=trade.seller_site, buyer_site=trade.buyer_site,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "trade_id": self.trade_id, "slot": self.slot.isoformat(), "seller": self.seller,
            "buyer": self.buyer, "kwh": str(self.kwh), "price": str(self.price), "tier": self.tier,
            "wheeling_fee": str(self.wheeling_fee), "renewable": self.renewable,
            "seller_site": self.seller_site, "buyer_site": self.buyer_site,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TradeFact:
        return cls(
            trade_id=data["trade_id"], slot=datetime.fromisoformat(data["slot"]), seller=data["seller"],
            buyer=data["buyer"], kwh=Decimal(data["kwh"]), price=Decimal(data["price"]), tier=data["tier"],
            wheeling_fee=Decimal(data["wheeling_fee"]), renewable=bool(data["renewable"]),
            seller_site=data.get("seller_site"), buyer_site=data.get("buyer_site"),
        )


def trade_legs(buyer: str, seller: str, kwh: Decimal, price: Decimal, wheeling_fee: Decimal,
               platform_fee: Decimal) -> list[list[Any]]:
    """The postings of a trade as JSON rows ``[account, commodity, amount, kind]``; zero legs left out.

    The buyer pays energy + wheeling; the seller gets energy minus the platform fee; the kWh move from
    seller to buyer. This is the single place that turns a trade into money.
    """
    b, s = participant_account(buyer), participant_account(seller)
    energy = amount_sen(kwh, price)
    wheeling = amount_sen(kwh, wheeling_fee)
    platform = amount_sen(kwh, platform_fee)
    wh = kwh_to_wh(kwh)
    legs = [
        [b, JPY, -energy, "energy"], [s, JPY, energy, "energy"],
        [b, JPY, -wheeling, "wheeling"], [GRID_OPERATOR, JPY, wheeling, "wheeling"],
        [s, JPY, -platform, "platform_fee"], [PLATFORM, JPY, platform, "platform_fee"],
        [s, KWH, -wh, "delivery"], [b, KWH, wh, "delivery"],
    ]
    return [leg for leg in legs if leg[2] != 0]


def trade_postings(fact: TradeFact, fees: FeeSchedule) -> tuple[Posting, ...]:
    rows = trade_legs(fact.buyer, fact.seller, fact.kwh, fact.price, fact.wheeling_fee, fees.platform_fee_per_kwh)
    return tuple(Posting.from_json(row) for row in rows)


def imbalance(postings: Iterable[Posting]) -> dict[str, int]:
    """Per commodity, what the postings fail to balance by (empty when they balance)."""
    totals: dict[str, int] = defaultdict(int)
    for p in postings:
        totals[p.commodity] += p.amount
    return {c: v for c, v in totals.items() if v != 0}


def net_for(postings: Iterable[Posting], account: str, commodity: str = JPY) -> int:
    """What ``account`` received (+) or paid (-) in ``commodity`` over ``postings``."""
    return sum(p.amount for p in postings if p.account == account and p.commodity == commodity)


def paid_for(postings: Iterable[Posting], kind: str) -> int:
    """Money (sen) that changed hands under ``kind``: the sum of its receiving legs."""
    return sum(p.amount for p in postings if p.kind == kind and p.commodity == JPY and p.amount > 0)


def group_account(group: str) -> str:
    """A group of residents who co-own cars: the account their members' cost shares are paid into."""
    return f"group:{group}"
