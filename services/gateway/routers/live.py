"""The operators' live map and market & ledger panel: the station area now (chokepoints' level of service,
chargers' load, vehicles), the market per slot, and the dead letters per topic."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.gateway.deps import GatewayDep, Operator
from services.gateway.schemas.common import error_responses
from services.gateway.schemas.live import DeadLetterAnswer, LiveAnswer, MarketSlot

router = APIRouter(prefix="/v1/operator", tags=["operator"], responses=error_responses(401, 403))
ANOMALIES_LOOKED_AT = 200


def _anomaly_marks(gw: GatewayDep) -> dict[str, dict[str, Any]]:
    """The latest crowd anomaly of each zone, from the anomaly read model (city.anomalies is read once)."""
    marks: dict[str, dict[str, Any]] = {}
    for a in gw.anomalies.latest(ANOMALIES_LOOKED_AT):
        if a.get("source") != "crowd":
            continue
        held = marks.get(a["place"])
        if held is None or datetime.fromisoformat(a["at"]) > datetime.fromisoformat(held["minute_start"]):
            marks[a["place"]] = {"kind": a["kind"], "minute_start": a["at"], "observed": a["observed"],
                                 "expected": a["expected"]}
    return marks


@router.get("/live", response_model=LiveAnswer)
def live(_: Operator, gw: GatewayDep) -> dict[str, Any]:
    """Each chokepoint's latest count and level of service (Fruin A-F), each charger's kW in use against its
    power, the ride vehicles and couriers with their next stop; every item with its age and whether it is stale
    (older than ``stale_after_s``)."""
    snapshot = gw.live.snapshot()
    marks = _anomaly_marks(gw)
    for c in snapshot["chokepoints"]:
        c["anomaly"] = marks.get(c["zone"])
    return snapshot


@router.get("/market/slots", response_model=list[MarketSlot], responses=error_responses(422))
def market_slots(_: Operator, gw: GatewayDep,
                 limit: Annotated[int, Query(ge=1, le=336, description="newest first")] = 48) -> list[dict[str, Any]]:
    """Per slot, from the market's trades and clearings: kWh (by tier), the clearing price, the renewable share."""
    return gw.market.slots(limit)


@router.get("/dead-letters", response_model=DeadLetterAnswer)
def dead_letters(_: Operator, gw: GatewayDep) -> dict[str, Any]:
    """Messages the services could not process, per source topic: how many, and the latest few with the reason
    and time (most first)."""
    topics = gw.dead_letters.by_topic()
    return {"total": sum(t["count"] for t in topics), "topics": topics}
