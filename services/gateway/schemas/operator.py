"""What the operator reads and does: ledger audits, per-slot aggregates, gate closures."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel


class GateClosure(BaseModel):
    slot: datetime
    event_id: str


class BadEntryPublic(BaseModel):
    position: int
    chain: str
    seq: int
    reason: str
    suspect_from: int | None = None


class VerifyAnswer(BaseModel):
    ok: bool
    entries: int
    signatures: int
    anchors: int
    summary: str
    first_bad: BadEntryPublic | None


class ReconcileAnswer(BaseModel):
    ok: bool
    problems: list[str]
    trades: int
    kwh: Decimal
    energy_yen: Decimal


class SlotTotal(BaseModel):
    slot: str | None
    trades: int
    kwh: Decimal
    energy_yen: Decimal
    wheeling_yen: Decimal
    platform_fee_yen: Decimal
