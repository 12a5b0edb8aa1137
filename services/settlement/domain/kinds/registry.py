"""The registry of entry kinds: the one list that says which kinds the ledger writes and verifies.

Adding a kind is one module under ``domain/kinds/`` plus one line in ``KINDS`` below (and a migration if it
has a query table of its own). The registry is an explicit tuple, checked when it is built, rather than
something filled in as a side effect of imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from services.settlement.domain.kinds.anchor import AnchorKind
from services.settlement.domain.kinds.base import KIND_NAME_MAX, EntryKind
from services.settlement.domain.kinds.charging_bill import ChargingBillKind
from services.settlement.domain.kinds.cost_share import CostShareKind
from services.settlement.domain.kinds.delivery_fee import DeliveryFeeKind
from services.settlement.domain.kinds.fare import FareKind
from services.settlement.domain.kinds.retirement import RetirementKind
from services.settlement.domain.kinds.reward import CampaignFundingKind, RewardKind
from services.settlement.domain.kinds.trade import TradeKind


class UnknownKind(KeyError):
    """An entry names a kind no module registered."""


class KindRegistry(Mapping[str, EntryKind]):
    """Kinds by name; refuses duplicates, blank names and names longer than the column holds."""

    def __init__(self, kinds: Iterable[EntryKind]) -> None:
        self._kinds: dict[str, EntryKind] = {}
        for kind in kinds:
            if not kind.name or len(kind.name) > KIND_NAME_MAX:
                raise ValueError(f"entry kind name {kind.name!r} must be 1..{KIND_NAME_MAX} characters")
            if kind.name in self._kinds:
                raise ValueError(f"entry kind {kind.name!r} registered twice")
            self._kinds[kind.name] = kind

    def __getitem__(self, name: str) -> EntryKind:
        try:
            return self._kinds[name]
        except KeyError:
            raise UnknownKind(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)

    def anchored(self) -> tuple[str, ...]:
        """Names of the kinds whose entries are leaves of their slot's Merkle tree."""
        return tuple(name for name, kind in self._kinds.items() if kind.anchored)


# Order does not matter; one line per kind.
KINDS = KindRegistry((
    TradeKind(),
    RetirementKind(),
    AnchorKind(),
    RewardKind(),
    CampaignFundingKind(),
    FareKind(),
    ChargingBillKind(),
    DeliveryFeeKind(),
    CostShareKind(),
))
