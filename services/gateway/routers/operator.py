"""The operator's controls and audits: close a gate now, verify and reconcile the ledger, per-slot totals."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from services.gateway.deps import Bus, GatewayDep, Ledger, Operator
from services.gateway.schemas.common import error_responses
from services.gateway.schemas.operator import AnomalyPublic, GateClosure, ReconcileAnswer, SlotTotal, VerifyAnswer
from services.gateway.schemas.types import SlotStart
from services.gateway.slots import check_closable
from shared.contracts.energy import ORDERS, GateClosed

router = APIRouter(prefix="/v1/operator", tags=["operator"], responses=error_responses(401, 403, 503))


@router.get("/ledger/verify", response_model=VerifyAnswer)
def verify_ledger(_: Operator, ledger: Ledger) -> VerifyAnswer:
    """Recompute every hash, signature and anchor; names the first entry that does not check out."""
    report = ledger.operator().verify()
    bad = report.first_bad
    return VerifyAnswer(ok=report.ok, entries=report.entries, signatures=report.signatures, anchors=report.anchors,
                        summary=report.summary(), first_bad=vars(bad) if bad else None)


@router.get("/ledger/reconcile", response_model=ReconcileAnswer)
def reconcile_ledger(_: Operator, ledger: Ledger, gateway: GatewayDep) -> dict[str, Any]:
    """Postings sum to zero, kWh sold equals kWh bought per slot, money equals the market's trades; and the
    ledger holds exactly the trades the market published on energy.trades (``market``: the slots and counts
    that differ)."""
    report = ledger.operator().reconcile().to_json()
    if gateway.market_check is None:
        return report
    market = gateway.market_check()
    return {**report, "ok": bool(report["ok"]) and market.ok, "market": market.to_json()}


@router.get("/anomalies", response_model=list[AnomalyPublic])
def anomalies(_: Operator, gateway: GatewayDep,
              limit: Annotated[int, Query(ge=1, le=200, description="newest first")] = 50) -> list[dict[str, Any]]:
    """The city's eye: the latest anomalies in crowd counts and shops' days, each with its evidence."""
    return gateway.anomalies.latest(limit)


@router.get("/ledger/slots", response_model=list[SlotTotal])
def slot_totals(_: Operator, ledger: Ledger) -> list[dict[str, Any]]:
    """Per-slot aggregates (no participant's detail)."""
    return ledger.operator().slot_totals()


@router.post("/slots/{slot}/close", response_model=GateClosure, responses=error_responses(409, 422))
async def close_gate(slot: Annotated[SlotStart, Path(description="a slot that has not begun, within the "
                                                                 "market's horizon")],
                     _: Operator, gw: GatewayDep, bus: Bus) -> GateClosure:
    """Close the gate of a slot now, so the market clears it (the market's own clock does this too).
    409 when the slot has begun (its gate is closed already)."""
    check_closable(slot, gw.order_horizon)
    envelope = await bus.publish(ORDERS, GateClosed(slot=slot))
    return GateClosure(slot=slot, event_id=envelope.event_id)
