"""Events the settlement service adds to the shared contract: asking for and confirming a retirement.

Only the settlement service writes the ledger, so a participant (through the gateway) *asks* for a
certificate to be retired and the service answers on ``ledger.receipts``.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.events import Payload, register

RETIREMENTS = "ledger.retirements"


@register
class CertificateRetirementRequested(Payload):
    """A participant asks to retire one of their renewable certificates against a target."""

    event_type: ClassVar[str] = "ledger.certificate.retirement.requested"
    cert_id: str = Field(min_length=1, max_length=160)
    participant: str = Field(min_length=1, max_length=64)
    target: str = Field(min_length=1, max_length=128, description="e.g. 'FY2026 renewable target'")

    def key(self) -> str:
        return self.participant


@register
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
