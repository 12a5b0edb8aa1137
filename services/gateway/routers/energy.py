"""The energy market for app users and device agents: place and cancel orders, read trades and rejections."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, status

from services.gateway.deps import Bus, Ledger, Participant, Rejections
from services.gateway.schemas.common import error_responses
from services.gateway.schemas.energy import (
    CancelRequested,
    OrderAccepted,
    OrderCreate,
    RejectionPublic,
    TradePublic,
)
from shared.events import EnergyOrderCancelled, EnergyOrderPlaced

router = APIRouter(prefix="/v1/energy", tags=["energy"], responses=error_responses(401, 422))


@router.post("/orders", status_code=status.HTTP_202_ACCEPTED, response_model=OrderAccepted)
def place_order(order: OrderCreate, participant: Participant, bus: Bus) -> OrderAccepted:
    """Queue an order for the slot's market; rejections (late, duplicate, ...) arrive on energy.rejections."""
    event = EnergyOrderPlaced(participant=participant, **order.model_dump())
    envelope = bus.publish("energy.orders", event)
    return OrderAccepted(order_id=event.order_id, participant=participant, slot=event.slot,
                         event_id=envelope.event_id)


@router.delete("/orders/{order_id}", status_code=status.HTTP_202_ACCEPTED, response_model=CancelRequested)
def cancel_order(order_id: str, slot: datetime, participant: Participant, bus: Bus) -> CancelRequested:
    """Ask the market to take an order out of its slot's book (until the gate closes)."""
    envelope = bus.publish("energy.orders", EnergyOrderCancelled(order_id=order_id, participant=participant,
                                                                 slot=slot))
    return CancelRequested(order_id=order_id, event_id=envelope.event_id)


@router.get("/trades", response_model=list[TradePublic])
def my_trades(participant: Participant, ledger: Ledger) -> list[dict[str, Any]]:
    """The caller's own settled trades, from the ledger."""
    return ledger.participant(participant).trades()


@router.get("/rejections", response_model=list[RejectionPublic])
def my_rejections(participant: Participant, rejections: Rejections) -> list[dict[str, Any]]:
    """Why the market refused the caller's orders (late, duplicate, out of range, ...), newest last."""
    return rejections.rejections_for(participant)
