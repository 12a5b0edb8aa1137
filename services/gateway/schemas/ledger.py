"""A participant's view of the ledger: statement, balance, certificates, renewable progress and targets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class RetirementCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: str = Field(min_length=1, max_length=128, description="the renewable target, e.g. 'FY2026 green 60 %'")


class RetirementStatus(BaseModel):
    """Where a certificate's retirement stands: retired (with the ledger entry that proves it) or not."""

    cert_id: str
    status: Literal["retired", "not retired", "requested"] = Field(
        description="retired: on the ledger; requested: asked for, not recorded yet (ask the status_url)")
    target: str | None = Field(None, description="the target it is retired (or asked to be retired) against")
    entry_seq: int | None = Field(None, description="the retirement's ledger entry")
    entry_hash: str | None = None
    event_id: str | None = Field(None, description="the request's event, when this answer follows a request")
    status_url: str
    message: str


class Balance(BaseModel):
    participant: str
    yen: Decimal
    kwh: Decimal


class CertificatePublic(BaseModel):
    cert_id: str
    trade_id: str
    slot: str | None
    source_participant: str
    source_site: str | None
    kwh: Decimal
    retired: bool
    retired_target: str | None = None


class StatementLinePublic(BaseModel):
    trade_id: str
    slot: str
    role: Literal["buyer", "seller"]
    counterparty: str
    kwh: Decimal
    price: Decimal
    energy_yen: Decimal
    wheeling_yen: Decimal
    platform_fee_yen: Decimal
    net_yen: Decimal
    renewable: bool
    entry_seq: int
    entry_hash: str


class StatementPeriod(BaseModel):
    start: str | None
    end: str | None


class StatementPublic(BaseModel):
    """The caller's trades, fees and certificates for a period, as recorded on the ledger."""

    participant: str
    period: StatementPeriod
    lines: list[StatementLinePublic]
    totals: dict[str, str]
    certificates: list[dict[str, Any]]
    retired: list[dict[str, Any]]
    payments: list[dict[str, Any]] = Field(default_factory=list,
                                           description="entries of other kinds that moved the caller's account")


class RenewableTarget(BaseModel):
    """Progress to a renewable share: on-site (A), community (B), then what certificates must cover (C)."""

    share: Decimal
    consumption_kwh: Decimal
    target_kwh: Decimal
    from_on_site_kwh: Decimal
    from_community_kwh: Decimal
    certificates_needed_kwh: Decimal
    certificates_retired_kwh: Decimal | None
    still_to_cover_kwh: Decimal
    met: bool
