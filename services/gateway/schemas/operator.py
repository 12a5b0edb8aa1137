"""What the operator reads and does: ledger audits, per-slot aggregates, gate closures."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field


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


class SlotDifferenceAnswer(BaseModel):
    slot: str
    market: int = Field(description="distinct trades the market published on energy.trades for the slot")
    ledger: int = Field(description="trades the ledger holds for the slot")
    missing: list[str] = Field(description="published but not on the ledger (the first few)")
    unexpected: list[str] = Field(description="on the ledger but never published (the first few)")
    summary: str


class MarketAnswer(BaseModel):
    ok: bool
    slots: int
    market_trades: int
    ledger_trades: int
    differences: list[SlotDifferenceAnswer]


class ReconcileAnswer(BaseModel):
    ok: bool
    problems: list[str]
    trades: int
    kwh: Decimal
    energy_yen: Decimal
    market: MarketAnswer | None = Field(default=None, description="the ledger against the market's published "
                                                                  "trades (when the gateway reaches the broker)")


class SlotTotal(BaseModel):
    slot: str | None
    trades: int
    kwh: Decimal
    energy_yen: Decimal
    wheeling_yen: Decimal
    platform_fee_yen: Decimal


class AnomalyPublic(BaseModel):
    """One anomaly of the city's eye: crowd counts (``crowd``) or shops' days (``shops``)."""

    source: Literal["crowd", "shops"]
    kind: str
    place: str
    at: str = Field(description="the minute (crowd) or the day (shops)")
    observed: float
    expected: float
    robust_z: float
    evidence: str
