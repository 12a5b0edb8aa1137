"""An app user's view of the ledger: statement, balance, certificates, renewable progress and targets."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from fastapi.responses import HTMLResponse, Response

from services.gateway.deps import Bus, Ledger, Participant
from services.gateway.renewable import renewable_target
from services.gateway.schemas.common import error_responses
from services.gateway.schemas.ledger import (
    Balance,
    CertificatePublic,
    RenewableTarget,
    RetirementCreate,
    RetirementRequested,
    StatementPublic,
)
from services.settlement.events import CertificateRetirementRequested

router = APIRouter(prefix="/v1/ledger", tags=["ledger"], responses=error_responses(401, 422))


@router.get("/statement", response_model=StatementPublic,
            responses={200: {"content": {"text/html": {"schema": {"type": "string"}}},
                             "description": "the statement as JSON, or as a page with format=html"}})
def my_statement(participant: Participant, ledger: Ledger, start: datetime | None = None,
                 end: datetime | None = None, format: Literal["json", "html"] = "json") -> Response | dict[str, Any]:
    """The caller's statement for a period (trades, fees, certificates), as JSON or a readable page."""
    statement = ledger.participant(participant).statement(start, end)
    if format == "html":
        return HTMLResponse(statement.to_html())
    return statement.to_json()


@router.get("/balance", response_model=Balance)
def my_balance(participant: Participant, ledger: Ledger) -> Balance:
    balance = ledger.participant(participant).balance()
    return Balance(participant=balance.participant, yen=balance.yen, kwh=balance.kwh)


@router.get("/certificates", response_model=list[CertificatePublic])
def my_certificates(participant: Participant, ledger: Ledger) -> list[dict[str, Any]]:
    """Renewable-origin certificates the caller holds (source site, slot, kWh), retired or not."""
    return ledger.participant(participant).certificates()


@router.get("/renewable-progress", response_model=dict[str, Decimal])
def my_renewable_progress(participant: Participant, ledger: Ledger) -> dict[str, str]:
    """kWh of renewable certificates the caller has retired, per renewable target (the proof of use)."""
    return ledger.participant(participant).renewable_progress()


@router.get("/renewable-target", response_model=RenewableTarget)
def my_renewable_target(participant: Participant, ledger: Ledger,
                        share: Annotated[Decimal, Query(ge=0, le=1, description="target share, 0..1")],
                        target: str | None = None) -> RenewableTarget:
    """Progress towards a renewable share of what the caller bought: on-site (A), community (B), and the
    kWh still to cover with certificates (C); with ``target``, the certificates already retired for it."""
    view = ledger.participant(participant)
    retired = Decimal(view.renewable_progress().get(target, "0")) if target else None
    return renewable_target(participant, view.trades(), share, retired)


@router.post("/certificates/{cert_id}/retire", status_code=status.HTTP_202_ACCEPTED,
             response_model=RetirementRequested)
def retire_certificate(cert_id: str, body: RetirementCreate, participant: Participant, bus: Bus) -> RetirementRequested:
    """Ask to retire one of the caller's certificates against a renewable target (once; the answer comes
    as a receipt, and the retirement shows in /v1/ledger/renewable-progress)."""
    envelope = bus.publish("ledger.retirements", CertificateRetirementRequested(
        cert_id=cert_id, participant=participant, target=body.target))
    return RetirementRequested(cert_id=cert_id, target=body.target, event_id=envelope.event_id)
