"""The gateway: HTTP in front of the bus. Routes only translate: parse, authenticate, publish, read back."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Protocol

from fastapi import Depends, FastAPI, Header, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest

from services.gateway.publisher import Publisher
from services.gateway.rejections import RejectionReader
from services.gateway.schemas import (
    GateClosure,
    OrderAccepted,
    OrderCreate,
    RejectionPublic,
    RetirementCreate,
    TradePublic,
)
from services.market.domain.targets import settle_target
from services.settlement.events import CertificateRetirementRequested
from shared.auth import AuthError, ForbiddenError, participant_from_token
from shared.errors import DomainError
from shared.events import EnergyOrderCancelled, EnergyOrderPlaced, GateClosed, Slot
from shared.settings import Settings

log = logging.getLogger("citymatch.gateway")


class LedgerViews(Protocol):
    """The ledger's read side (services.settlement.views.LedgerReader): per-participant and operator views."""

    def participant(self, participant: str) -> Any: ...
    def operator(self) -> Any: ...


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("missing Authorization header (expected 'Bearer <token>')")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthError("Authorization header must be 'Bearer <token>'")
    return token.strip()


def current_participant(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    return participant_from_token(request.app.state.settings.token_secret, _bearer(authorization))


def require_operator(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    settings = request.app.state.settings
    token = _bearer(authorization)
    if hmac.compare_digest(token, settings.operator_token):
        return
    try:
        participant = participant_from_token(settings.token_secret, token)
    except AuthError:
        raise AuthError("operator token required") from None
    raise ForbiddenError(f"{participant} is an app user; this route is for the operator")


Participant = Annotated[str, Depends(current_participant)]
Operator = Annotated[None, Depends(require_operator)]


def create_app(settings: Settings, publisher: Publisher, ledger: LedgerViews,
               readiness: Callable[[], dict[str, bool]] | None = None,
               rejections: RejectionReader | None = None) -> FastAPI:
    app = FastAPI(title="citymatch gateway", version="0.1.0",
                  description="Orders, trades and operator controls for the Ebina station-area platform.")
    app.state.settings = settings
    registry = CollectorRegistry()
    requests = Counter("citymatch_http_requests_total", "HTTP requests", ["route", "status"], registry=registry)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        requests.labels(request.url.path, "422").inc()
        return JSONResponse(status_code=422, content={"message": "; ".join(problems),
                                                      "detail": jsonable_errors(exc.errors())})

    @app.exception_handler(AuthError)
    async def auth_error(request: Request, exc: AuthError) -> JSONResponse:
        requests.labels(request.url.path, "401").inc()
        return JSONResponse(status_code=401, content={"message": str(exc)})

    @app.exception_handler(ForbiddenError)
    async def forbidden(request: Request, exc: ForbiddenError) -> JSONResponse:
        requests.labels(request.url.path, "403").inc()
        return JSONResponse(status_code=403, content={"message": str(exc)})

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        requests.labels(request.url.path, "400").inc()
        return JSONResponse(status_code=400, content={"message": str(exc)})

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", tags=["ops"])
    def ready() -> JSONResponse:
        checks = {"bus": publisher.ready(), **(readiness() if readiness else {})}
        ok = all(checks.values())
        return JSONResponse(status_code=200 if ok else 503, content={"ready": ok, "checks": checks})

    @app.get("/metrics", tags=["ops"])
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/v1/energy/orders", status_code=status.HTTP_202_ACCEPTED, response_model=OrderAccepted,
              tags=["energy"])
    def place_order(order: OrderCreate, participant: Participant) -> OrderAccepted:
        """Queue an order for the slot's market; rejections (late, duplicate, ...) arrive on energy.rejections."""
        event = EnergyOrderPlaced(participant=participant, **order.model_dump())
        envelope = publisher.publish("energy.orders", event)
        requests.labels("/v1/energy/orders", "202").inc()
        return OrderAccepted(order_id=event.order_id, participant=participant, slot=event.slot,
                             event_id=envelope.event_id)

    @app.delete("/v1/energy/orders/{order_id}", status_code=status.HTTP_202_ACCEPTED, tags=["energy"])
    def cancel_order(order_id: str, slot: datetime, participant: Participant) -> dict[str, str]:
        envelope = publisher.publish("energy.orders",
                                     EnergyOrderCancelled(order_id=order_id, participant=participant, slot=slot))
        return {"order_id": order_id, "event_id": envelope.event_id, "status": "cancel requested"}

    @app.get("/v1/energy/trades", response_model=list[TradePublic], tags=["energy"])
    def my_trades(participant: Participant) -> list[dict[str, Any]]:
        """The caller's own settled trades, from the ledger."""
        return ledger.participant(participant).trades()

    @app.get("/v1/ledger/statement", tags=["ledger"], response_model=None)
    def my_statement(participant: Participant, start: datetime | None = None, end: datetime | None = None,
                     format: Literal["json", "html"] = "json") -> Response | dict[str, Any]:
        """The caller's statement for a period (trades, fees, certificates), as JSON or a readable page."""
        statement = ledger.participant(participant).statement(start, end)
        if format == "html":
            return HTMLResponse(statement.to_html())
        return statement.to_json()

    @app.get("/v1/ledger/balance", tags=["ledger"])
    def my_balance(participant: Participant) -> dict[str, str]:
        balance = ledger.participant(participant).balance()
        return {"participant": balance.participant, "yen": str(balance.yen), "kwh": str(balance.kwh)}

    @app.get("/v1/ledger/certificates", tags=["ledger"])
    def my_certificates(participant: Participant) -> list[dict[str, Any]]:
        """Renewable-origin certificates the caller holds (source site, slot, kWh), retired or not."""
        return ledger.participant(participant).certificates()

    @app.get("/v1/ledger/renewable-progress", tags=["ledger"])
    def my_renewable_progress(participant: Participant) -> dict[str, str]:
        """kWh of renewable certificates the caller has retired, per renewable target (the proof of use)."""
        return ledger.participant(participant).renewable_progress()

    @app.get("/v1/ledger/renewable-target", tags=["ledger"])
    def my_renewable_target(participant: Participant,
                            share: Annotated[Decimal, Query(ge=0, le=1, description="target share, 0..1")],
                            target: str | None = None) -> dict[str, Any]:
        """Progress towards a renewable share of what the caller bought: on-site (A), community (B), and the
        kWh still to cover with certificates (C); with ``target``, the certificates already retired for it."""
        bought = [t for t in ledger.participant(participant).trades() if t["role"] == "buyer"]
        consumption = sum((Decimal(t["kwh"]) for t in bought), Decimal(0))
        plan = settle_target(participant, [_TradeView(participant, t) for t in bought], consumption, share)
        retired = Decimal(ledger.participant(participant).renewable_progress().get(target, "0")) if target else None
        still = max(Decimal(0), plan.certificates_kwh - (retired or 0))
        return {"share": str(share), "consumption_kwh": str(plan.consumption_kwh), "target_kwh": str(plan.target_kwh),
                "from_on_site_kwh": str(plan.from_a_kwh), "from_community_kwh": str(plan.from_b_kwh),
                "certificates_needed_kwh": str(plan.certificates_kwh),
                "certificates_retired_kwh": None if retired is None else str(retired),
                "still_to_cover_kwh": str(still), "met": still == 0}

    @app.post("/v1/ledger/certificates/{cert_id}/retire", status_code=status.HTTP_202_ACCEPTED, tags=["ledger"])
    def retire_certificate(cert_id: str, body: RetirementCreate, participant: Participant) -> dict[str, str]:
        """Ask to retire one of the caller's certificates against a renewable target (once; the answer comes
        as a receipt, and the retirement shows in /v1/ledger/renewable-progress)."""
        envelope = publisher.publish("ledger.retirements", CertificateRetirementRequested(
            cert_id=cert_id, participant=participant, target=body.target))
        return {"cert_id": cert_id, "target": body.target, "event_id": envelope.event_id,
                "status": "retirement requested"}

    @app.get("/v1/operator/ledger/verify", tags=["operator"])
    def verify_ledger(_: Operator) -> dict[str, Any]:
        """Recompute every hash, signature and anchor; names the first entry that does not check out."""
        report = ledger.operator().verify()
        bad = report.first_bad
        return {"ok": report.ok, "entries": report.entries, "signatures": report.signatures,
                "anchors": report.anchors, "summary": report.summary(), "first_bad": vars(bad) if bad else None}

    @app.get("/v1/operator/ledger/reconcile", tags=["operator"])
    def reconcile_ledger(_: Operator) -> dict[str, Any]:
        """Postings sum to zero, kWh sold equals kWh bought per slot, money equals the market's trades."""
        return ledger.operator().reconcile().to_json()

    @app.get("/v1/operator/ledger/slots", tags=["operator"])
    def slot_totals(_: Operator) -> list[dict[str, Any]]:
        """Per-slot aggregates (no participant's detail)."""
        return ledger.operator().slot_totals()

    @app.get("/v1/energy/rejections", response_model=list[RejectionPublic], tags=["energy"])
    def my_rejections(participant: Participant) -> list[dict[str, Any]]:
        """Why the market refused the caller's orders (late, duplicate, out of range, ...), newest last."""
        return rejections.rejections_for(participant) if rejections else []

    @app.post("/v1/operator/slots/{slot}/close", response_model=GateClosure, tags=["operator"])
    def close_gate(slot: Slot, _: Operator) -> GateClosure:
        """Close the gate of a slot now, so the market clears it (the market's own clock does this too)."""
        envelope = publisher.publish("energy.orders", GateClosed(slot=slot))
        return GateClosure(slot=envelope.body().slot, event_id=envelope.event_id)

    return app


@dataclass(frozen=True)
class _TradeView:
    """A settled trade as the target rules read it (buyer, tier, renewable, kWh)."""

    participant: str
    row: dict[str, Any]

    @property
    def buyer(self) -> str:
        return self.participant if self.row["role"] == "buyer" else self.row["buyer"]

    @property
    def tier(self) -> str:
        return self.row["tier"]

    @property
    def renewable(self) -> bool:
        return bool(self.row["renewable"])

    @property
    def kwh(self) -> Decimal:
        return Decimal(self.row["kwh"])


def jsonable_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]
