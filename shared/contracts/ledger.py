"""Ledger contracts: receipts for settled trades, slot anchors, and certificate retirements.

Only the settlement service writes the ledger, so a participant (through the gateway) *asks* for a
certificate to be retired on ``ledger.retirements`` and the service answers on ``ledger.receipts``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from pydantic import Field

from shared.contracts.base import AnyTopic, Payload, Slot, Topic


class LedgerReceipt(Payload):
    """The settlement service's word that a trade is on the ledger."""

    event_type: ClassVar[str] = "ledger.receipt"
    trade_id: str
    participant: str
    entry_seq: int
    entry_hash: str
    amount_yen: Decimal

    def key(self) -> str:
        return self.participant


class LedgerAnchor(Payload):
    """Merkle root of one slot's ledger entries, so outsiders can hold the ledger to it."""

    event_type: ClassVar[str] = "ledger.anchor"
    slot: Slot
    merkle_root: str
    entries: int

    def key(self) -> str:
        return self.slot.isoformat()


class CertificateRetirementRequested(Payload):
    """A participant asks to retire one of their renewable certificates against a target."""

    event_type: ClassVar[str] = "ledger.certificate.retirement.requested"
    cert_id: str = Field(min_length=1, max_length=160)
    participant: str = Field(min_length=1, max_length=64)
    target: str = Field(min_length=1, max_length=128, description="e.g. 'FY2026 renewable target'")

    def key(self) -> str:
        return self.participant


class CertificateRetired(Payload):
    """The settlement service's answer: retired (with the ledger entry) or refused (with the reason)."""

    event_type: ClassVar[str] = "ledger.certificate.retired"
    cert_id: str
    participant: str
    target: str
    accepted: bool
    reason: str | None = None
    entry_seq: int | None = None
    entry_hash: str | None = None

    def key(self) -> str:
        return self.participant


RECEIPTS: Topic[LedgerReceipt | CertificateRetired] = Topic(
    "ledger.receipts", key="participant", payloads=(LedgerReceipt, CertificateRetired), retention_ms=None)
ANCHORS: Topic[LedgerAnchor] = Topic("ledger.anchors", key="slot", payloads=(LedgerAnchor,), retention_ms=None,
                                     compacted=True)
RETIREMENTS: Topic[CertificateRetirementRequested] = Topic(
    "ledger.retirements", key="participant", payloads=(CertificateRetirementRequested,), retention_ms=None)

TOPICS: tuple[AnyTopic, ...] = (RECEIPTS, ANCHORS, RETIREMENTS)
