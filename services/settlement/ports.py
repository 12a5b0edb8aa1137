"""The settlement service's ports: the ``Ledger`` it writes through and the ``LedgerReadModel`` others read.

Two adapters implement them: the SQL one (``store.py`` writes, ``read_model.py`` reads; PostgreSQL or
SQLite) and the in-memory fake (``memory.py``) for unit tests of the service and the gateway. Rows handed
out are typed and immutable; ``to_json()`` gives the wire shape (decimals as strings, slots as ISO text).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from services.settlement.domain.certificates import RetirementDecision
from services.settlement.domain.chain import Draft, Entry
from services.settlement.domain.kinds.reward import CampaignAccount
from services.settlement.domain.kinds.trade import fact_of
from services.settlement.domain.money import sen_to_yen
from services.settlement.domain.postings import Posting, net_for, participant_account
from services.settlement.domain.reconcile import ReconcileReport
from services.settlement.domain.statement import Statement
from services.settlement.domain.verify import VerifyReport
from shared.contracts.energy import TradeMatched
from shared.contracts.ledger import LedgerAnchor, LedgerReceipt
from shared.errors import NotFound as NotFound  # the read side's errors live in shared.errors (the gateway's)
from shared.errors import NotYetAnchored as NotYetAnchored


class LedgerUnavailable(Exception):
    """The ledger's database is missing, unreachable or not a ledger (one line says which)."""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class RecordResult:
    """A trade newly on the ledger: where its entry sits and what each side's account moved by."""

    trade_id: str
    chain: str
    entry_seq: int
    entry_hash: str
    buyer: str
    seller: str
    buyer_yen: Decimal  # negative: the buyer paid
    seller_yen: Decimal  # positive: the seller's proceeds after fees

    def receipts(self) -> list[LedgerReceipt]:
        return [
            LedgerReceipt(trade_id=self.trade_id, participant=who, entry_seq=self.entry_seq,
                          entry_hash=self.entry_hash, amount_yen=amount)
            for who, amount in ((self.buyer, self.buyer_yen), (self.seller, self.seller_yen))
        ]


@dataclass(frozen=True)
class Balance:
    participant: str
    yen: Decimal  # received minus paid
    kwh: Decimal  # bought minus sold


@dataclass(frozen=True)
class TradeRow:
    """One of a participant's settled trades, seen from their side."""

    trade_id: str
    slot: datetime
    seller: str
    buyer: str
    kwh: Decimal
    price: Decimal
    amount_yen: Decimal
    tier: str
    renewable: bool
    role: str  # buyer | seller

    def to_json(self) -> dict[str, Any]:
        return {"trade_id": self.trade_id, "slot": _iso(self.slot), "seller": self.seller, "buyer": self.buyer,
                "kwh": str(self.kwh), "price": str(self.price), "amount_yen": str(self.amount_yen),
                "tier": self.tier, "renewable": self.renewable, "role": self.role}


@dataclass(frozen=True)
class CertificateRow:
    cert_id: str
    trade_id: str
    slot: datetime
    source_participant: str
    source_site: str | None
    kwh: Decimal
    owner: str
    issued_seq: int
    retired_seq: int | None = None
    retired_target: str | None = None

    @property
    def retired(self) -> bool:
        return self.retired_seq is not None

    def to_json(self) -> dict[str, Any]:
        return {"cert_id": self.cert_id, "trade_id": self.trade_id, "slot": _iso(self.slot),
                "source_participant": self.source_participant, "source_site": self.source_site,
                "kwh": str(self.kwh), "retired": self.retired, "retired_target": self.retired_target}


@dataclass(frozen=True)
class AnchorRow:
    chain: str
    slot: datetime
    entries: int
    merkle_root: str
    seq: int

    def to_json(self) -> dict[str, Any]:
        return {"chain": self.chain, "slot": _iso(self.slot), "entries": self.entries,
                "merkle_root": self.merkle_root, "seq": self.seq}


@dataclass(frozen=True)
class SlotTotal:
    """Per slot, aggregates only: no participant is named."""

    slot: datetime
    trades: int
    kwh: Decimal
    energy_yen: Decimal
    wheeling_yen: Decimal
    platform_fee_yen: Decimal

    def to_json(self) -> dict[str, Any]:
        return {"slot": _iso(self.slot), "trades": self.trades, "kwh": str(self.kwh),
                "energy_yen": str(self.energy_yen), "wheeling_yen": str(self.wheeling_yen),
                "platform_fee_yen": str(self.platform_fee_yen)}


@dataclass(frozen=True)
class InclusionProof:
    """An entry, and its Merkle path up to its slot's published anchor (format: docs/ledger-format.md).

    The entry travels whole (header fields and the exact body bytes), so whoever checks the proof recomputes
    the entry's hash from its content, then the root from the path, then compares with the anchor they saved.
    """

    entry: Entry
    index: int
    size: int
    proof: tuple[str, ...]
    anchor: AnchorRow

    def to_json(self) -> dict[str, Any]:
        e = self.entry
        return {"entry": {"chain": e.chain, "seq": e.seq, "kind": e.kind, "ref": e.ref, "slot": e.slot,
                          "body": e.body_json, "prev_hash": e.prev_hash, "hash": e.hash},
                "index": self.index, "size": self.size, "proof": list(self.proof),
                "anchor": self.anchor.to_json()}


@dataclass(frozen=True)
class RetirementOutcome:
    """What asking to retire a certificate did: the decision and, when accepted, the retirement entry."""

    cert_id: str
    participant: str
    target: str
    decision: RetirementDecision
    entry: Entry | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.decision.accepted


class LedgerReadModel(Protocol):
    """Reads, scoped by participant or aggregated for operators; opening one never writes."""

    def ping(self) -> None:
        """Raise ``LedgerUnavailable`` unless the ledger's tables answer now."""
        ...

    def trade_count(self) -> int: ...
    def trades_for(self, participant: str) -> list[TradeRow]: ...
    def balance(self, participant: str) -> Balance: ...
    def certificates(self, participant: str) -> list[CertificateRow]: ...
    def certificate(self, cert_id: str) -> CertificateRow | None: ...
    def renewable_progress(self, participant: str) -> dict[str, Decimal]: ...
    def statement(self, participant: str, start: datetime | None = None,
                  end: datetime | None = None) -> Statement: ...
    def slot_totals(self) -> list[SlotTotal]: ...
    def anchors(self) -> list[AnchorRow]: ...
    def entries(self, chain: str | None = None) -> Iterator[Entry]: ...
    def entry(self, kind: str, ref: str) -> Entry | None: ...
    def stored_postings(self) -> Iterator[tuple[str, int, Posting]]: ...
    def public_keys(self) -> dict[str, Any]: ...
    def verify(self, public_keys: Any = None, *, every_signature: bool = True) -> VerifyReport: ...
    def reconcile(self) -> ReconcileReport: ...
    def inclusion_proof(self, kind: str, ref: str) -> InclusionProof: ...
    def campaign_accounts(self) -> list[CampaignAccount]: ...
    def close(self) -> None: ...


class Ledger(LedgerReadModel, Protocol):
    """What the settlement service writes through (only it writes): trades, retirements, anchors, any kind."""

    def record(self, drafts: Sequence[Draft]) -> list[Entry | None]:
        """Append drafts of any registered kind once each (``None`` for a ``(kind, ref)`` already there)."""
        ...

    def record_trade(self, trade: TradeMatched) -> RecordResult | None: ...
    def record_trades(self, trades: Sequence[TradeMatched]) -> list[RecordResult | None]: ...
    def recorded(self, trade: TradeMatched) -> RecordResult: ...
    def retire_certificate(self, cert_id: str, participant: str, target: str) -> RetirementOutcome: ...
    def anchor_pending(self) -> list[LedgerAnchor]: ...


def result_for(entry: Entry) -> RecordResult:
    """A trade entry's receipts: what the buyer's and the seller's accounts moved by."""
    fact = fact_of(entry)
    legs = tuple(Posting.from_json(row) for row in entry.body["postings"])
    return RecordResult(fact.trade_id, entry.chain, entry.seq, entry.hash, fact.buyer, fact.seller,
                        sen_to_yen(net_for(legs, participant_account(fact.buyer))),
                        sen_to_yen(net_for(legs, participant_account(fact.seller))))
