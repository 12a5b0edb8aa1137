"""The energy market for app users and device agents: place and cancel orders, read trades and rejections."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, status

from services.gateway.deps import Bus, GatewayDep, Ledger, Participant, ParticipantReader, Rejections
from services.gateway.errors import FieldRuleError
from services.gateway.idempotency import event_id_for, fingerprint, order_id_for
from services.gateway.schemas.common import error_responses
from services.gateway.schemas.energy import (
    BatchAccepted,
    CancelRequested,
    OrderAccepted,
    OrderBatch,
    OrderCreate,
    RejectionPublic,
    TradePublic,
)
from services.gateway.schemas.types import ID_PATTERN, SlotStart
from services.gateway.slots import check_cancel_window, check_order_window
from shared.contracts.energy import ORDERS, EnergyOrderCancelled, EnergyOrderPlaced

router = APIRouter(prefix="/v1/energy", tags=["energy"], responses=error_responses(401, 403, 422))
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$",
    description="any printable ASCII string; a retry with the same key returns the first answer and never "
                "places a second order")]


@router.post("/orders", status_code=status.HTTP_202_ACCEPTED, response_model=OrderAccepted,
             responses=error_responses(409, 413, 503))
async def place_order(order: OrderCreate, participant: Participant, gw: GatewayDep, bus: Bus,
                      idempotency_key: IdempotencyKey = None) -> OrderAccepted:
    """Queue an order for the slot's market; the market decides at gate closure and says why it refused an
    order on /v1/energy/rejections. 503 means the broker did not confirm: retry with the same
    Idempotency-Key (or order_id)."""
    check_order_window(order.slot, gw.order_horizon)
    body = order.model_dump(mode="json", exclude={"order_id"})
    order_id = order.order_id or (order_id_for(participant, idempotency_key) if idempotency_key
                                  else uuid.uuid4().hex)
    digest = fingerprint(body)

    async def place() -> OrderAccepted:
        event = EnergyOrderPlaced(participant=participant, order_id=order_id,
                                  **order.model_dump(exclude={"order_id"}))
        envelope = await bus.publish(ORDERS, event, event_id=event_id_for(participant, order_id, digest))
        return OrderAccepted(order_id=order_id, participant=participant, slot=event.slot,
                             event_id=envelope.event_id)

    if idempotency_key is None:
        return await place()
    return await gw.idempotency.run(participant, idempotency_key, fingerprint({**body, "order_id": order_id}), place)


@router.post("/orders/batch", status_code=status.HTTP_202_ACCEPTED, response_model=BatchAccepted,
             responses=error_responses(413, 503))
async def place_orders(batch: OrderBatch, participant: Participant, gw: GatewayDep, bus: Bus) -> BatchAccepted:
    """Queue several of the caller's orders at once (a device agent's bids for many slots): all of them are
    acknowledged by the broker before the 202, or none is promised (503: retry the same batch; each order's
    event derives from its order_id, so the market admits it once)."""
    seen: set[str] = set()
    for i, order in enumerate(batch.orders):
        try:
            check_order_window(order.slot, gw.order_horizon)
        except FieldRuleError as exc:
            raise FieldRuleError(("body", "orders", i, "slot"), str(exc)) from None
        if order.order_id in seen:
            raise FieldRuleError(("body", "orders", i, "order_id"),
                                 f"order_id {order.order_id!r} appears twice in this batch")
        seen.add(order.order_id)
    events = [EnergyOrderPlaced(participant=participant, **order.model_dump()) for order in batch.orders]
    envelopes = await bus.publish_many(ORDERS, [
        (event, event_id_for(participant, event.order_id,
                             fingerprint(order.model_dump(mode="json", exclude={"order_id"}))))
        for event, order in zip(events, batch.orders, strict=True)])
    return BatchAccepted(orders=[
        OrderAccepted(order_id=e.order_id, participant=participant, slot=e.slot, event_id=env.event_id)
        for e, env in zip(events, envelopes, strict=True)])


@router.delete("/orders/{order_id}", status_code=status.HTTP_202_ACCEPTED, response_model=CancelRequested,
               responses=error_responses(503))
async def cancel_order(order_id: Annotated[str, Path(pattern=ID_PATTERN, max_length=64)],
                       slot: Annotated[SlotStart, Query(description="the order's slot")],
                       participant: Participant, gw: GatewayDep, bus: Bus) -> CancelRequested:
    """Ask the market to take one of the caller's orders out of its slot's book (until the gate closes).
    Cancelling twice is harmless; an id the caller does not own reads as unknown on /v1/energy/rejections."""
    check_cancel_window(slot, gw.order_horizon)
    event = EnergyOrderCancelled(order_id=order_id, participant=participant, slot=slot)
    envelope = await bus.publish(ORDERS, event,
                                 event_id=event_id_for(participant, order_id, f"cancel {slot.isoformat()}"))
    return CancelRequested(order_id=order_id, event_id=envelope.event_id)


@router.get("/trades", response_model=list[TradePublic], responses=error_responses(503))
def my_trades(participant: ParticipantReader, ledger: Ledger) -> list[dict[str, Any]]:
    """The caller's own settled trades, from the ledger."""
    return ledger.participant(participant).trades()


@router.get("/rejections", response_model=list[RejectionPublic])
def my_rejections(participant: ParticipantReader, rejections: Rejections) -> list[dict[str, Any]]:
    """Why the market refused the caller's orders (late, duplicate, out of range, ...), newest last."""
    return rejections.rejections_for(participant)

