"""An app user's view of the ledger: statement, balance, certificates, renewable progress and targets."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import HTMLResponse, JSONResponse, Response

from services.gateway.deps import Bus, Ledger, Participant, ParticipantReader
from services.gateway.errors import FieldRuleError
from services.gateway.schemas.common import error_responses
from services.gateway.schemas.ledger import (
    Balance,
    CertificatePublic,
    RenewableTarget,
    RetirementCreate,
    RetirementStatus,
    StatementPublic,
)
from services.gateway.schemas.types import ID_PATTERN, Moment, Share
from shared.contracts.ledger import RETIREMENTS, CertificateRetirementRequested
from shared.errors import NotFound

router = APIRouter(prefix="/v1/ledger", tags=["ledger"], responses=error_responses(401, 403, 422, 503))


@router.get("/statement", response_model=StatementPublic,
            responses={200: {"content": {"text/html": {"schema": {"type": "string"}}},
                             "description": "the statement as JSON, or as a page with format=html"}})
def my_statement(participant: ParticipantReader, ledger: Ledger,
                 start: Annotated[Moment | None, Query(description="first moment included")] = None,
                 end: Annotated[Moment | None, Query(description="first moment no longer included")] = None,
                 format: Literal["json", "html"] = "json") -> Response | dict[str, Any]:
    """The caller's statement for slots in [start, end) (trades, fees, certificates), as JSON or a page."""
    if start is not None and end is not None and start >= end:
        raise FieldRuleError(("query", "start"), f"start {start.isoformat()} must be before end {end.isoformat()}")
    statement = ledger.participant(participant).statement(start, end)
    if format == "html":
        return HTMLResponse(statement.to_html())
    return statement.to_json()


@router.get("/balance", response_model=Balance)
def my_balance(participant: ParticipantReader, ledger: Ledger) -> Balance:
    """What the caller's ledger account holds: yen and kWh, over all its postings."""
    balance = ledger.participant(participant).balance()
    return Balance(participant=balance.participant, yen=balance.yen, kwh=balance.kwh)


@router.get("/certificates", response_model=list[CertificatePublic])
def my_certificates(participant: ParticipantReader, ledger: Ledger) -> list[dict[str, Any]]:
    """Renewable-origin certificates the caller holds (source site, slot, kWh), retired or not."""
    return ledger.participant(participant).certificates()


@router.get("/renewable-progress", response_model=dict[str, Decimal])
def my_renewable_progress(participant: ParticipantReader, ledger: Ledger) -> dict[str, str]:
    """kWh of renewable certificates the caller has retired, per renewable target (the proof of use)."""
    return ledger.participant(participant).renewable_progress()


@router.get("/renewable-target", response_model=RenewableTarget)
def my_renewable_target(participant: ParticipantReader, ledger: Ledger,
                        share: Annotated[Share, Query(description="target share, 0..1, e.g. 0.6")],
                        target: Annotated[str | None, Query(min_length=1, max_length=128)] = None) -> RenewableTarget:
    """Progress towards a renewable share of what the caller bought: on-site (A), community (B), and the
    kWh still to cover with certificates (C); with ``target``, the certificates already retired for it."""
    return RenewableTarget(**ledger.participant(participant).renewable_target(share, target))


class CertificateState(Protocol):
    """What a retirement answer reads of a certificate row of the ledger's read side."""

    cert_id: str
    retired_seq: int | None
    retired_target: str | None

    @property
    def retired(self) -> bool: ...


RETIREMENT_ANSWER_WITHIN_S = 3.0  # how long a retirement request waits for the ledger before answering 202
_POLL_S = 0.05


def _retirement_status(cert: CertificateState, message: str, *, event_id: str | None = None,
                       asked: str | None = None, entry_hash: str | None = None) -> RetirementStatus:
    """The answer about ``cert``; ``asked`` is the target of a request not on the ledger yet."""
    state = "retired" if cert.retired else ("requested" if asked else "not retired")
    return RetirementStatus(cert_id=cert.cert_id, status=state, target=cert.retired_target or asked,
                            entry_seq=cert.retired_seq, entry_hash=entry_hash, event_id=event_id,
                            status_url=f"/v1/ledger/certificates/{cert.cert_id}/retirement", message=message)


def _not_found(exc: NotFound) -> JSONResponse:
    return JSONResponse(status_code=404, content={"message": str(exc)})


@router.get("/certificates/{cert_id}/retirement", response_model=RetirementStatus,
            responses=error_responses(404))
def certificate_retirement(cert_id: str, participant: Participant, ledger: Ledger) -> RetirementStatus | JSONResponse:
    """Whether the caller's certificate is retired, against which target and in which ledger entry (404 for a
    certificate that is missing or someone else's)."""
    view = ledger.participant(participant)
    try:
        cert = view.certificate(cert_id)
    except NotFound as exc:
        return _not_found(exc)
    if not cert.retired:
        return _retirement_status(cert, "not retired")
    return _retirement_status(cert, "retired", entry_hash=view.retirement_entry_hash(cert_id))


@router.post("/certificates/{cert_id}/retire", status_code=status.HTTP_200_OK, response_model=RetirementStatus,
             responses={202: {"model": RetirementStatus, "description": "asked for; not on the ledger yet"},
                        **error_responses(404, 409, 413)})
async def retire_certificate(cert_id: Annotated[str, Path(pattern=ID_PATTERN, max_length=64)],
                             body: RetirementCreate, participant: Participant, bus: Bus,
                             ledger: Ledger) -> RetirementStatus | JSONResponse:
    """Retire one of the caller's certificates against a renewable target, once.

    Answers 200 with the ledger entry once the settlement service has recorded it (usually within a second),
    202 with a ``status_url`` if it has not yet, 404 for a certificate that is missing or someone else's,
    409 if it is already retired (naming the target and entry it was retired with)."""
    view = ledger.participant(participant)
    try:
        refusal = view.retirement_refusal(cert_id, body.target)
    except NotFound as exc:
        return _not_found(exc)
    if refusal is not None:
        answer = _retirement_status(view.certificate(cert_id), refusal,
                                    entry_hash=view.retirement_entry_hash(cert_id))
        return JSONResponse(status_code=409, content=answer.model_dump(mode="json"))
    envelope = await bus.publish(RETIREMENTS, CertificateRetirementRequested(
        cert_id=cert_id, participant=participant, target=body.target))
    deadline = time.monotonic() + RETIREMENT_ANSWER_WITHIN_S
    while True:
        cert = await asyncio.to_thread(view.certificate, cert_id)
        if cert.retired or time.monotonic() >= deadline:
            break
        await asyncio.sleep(_POLL_S)
    if not cert.retired:
        answer = _retirement_status(cert, "retirement requested; not on the ledger yet",
                                    event_id=envelope.event_id, asked=body.target)
        return JSONResponse(status_code=202, content=answer.model_dump(mode="json"))
    entry_hash = view.retirement_entry_hash(cert_id)
    if cert.retired_target != body.target:  # another request retired it first
        message = f"certificate {cert_id} is already retired against {cert.retired_target!r}"
        answer = _retirement_status(cert, message, event_id=envelope.event_id, entry_hash=entry_hash)
        return JSONResponse(status_code=409, content=answer.model_dump(mode="json"))
    return _retirement_status(cert, "retired", event_id=envelope.event_id, entry_hash=entry_hash)
