"""The market as a :class:`shared.runtime.Service`: order book in memory, clearing at gate closure.

Topics: consumes ``energy.orders`` (EnergyOrderPlaced, EnergyOrderCancelled and GateClosed, all keyed by
slot, so a slot's orders and its gate closure share one partition and arrive in the order they were
accepted: an order acknowledged before the gate closed is always in the book when it clears); publishes
``energy.rejections``, ``energy.trades``, ``energy.clearings``, ``energy.dispatch`` and, from its timer,
GateClosed on ``energy.orders``. Devices confirm their set-points on ``energy.dispatch.acks``; the timer
publishes DispatchMissed on ``energy.dispatch`` for a set-point still unconfirmed after its slot.
Clearing is deterministic (orders sorted by id, trade ids hashed from slot and order ids), and a
cleared slot's result is kept, so a redelivered GateClosed republishes exactly the same trades and the
ledger's exactly-once holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from services.market.domain.acks import AckTracker, Owed
from services.market.domain.book import Admission, OrderBook
from services.market.domain.dispatch import Contract, setpoints
from services.market.market_slot import clear_orders
from services.market.settings import MarketSettings
from shared.contracts.base import Envelope, utcnow
from shared.contracts.energy import (
    CLEARINGS,
    DISPATCH,
    DISPATCH_ACKS,
    ORDERS,
    REJECTIONS,
    TRADES,
    DispatchAcknowledged,
    DispatchMissed,
    DispatchSetpoint,
    EnergyOrderCancelled,
    EnergyOrderPlaced,
    GateClosed,
    OrderRejected,
)
from shared.runtime import Outgoing, Service, Timer
from shared.units import SLOT, slot_start

log = logging.getLogger(__name__)


class MarketService:
    """State and handlers of the market; ``build_service`` wraps it into a transport-free Service."""

    def __init__(self, settings: MarketSettings | None = None, clock: Callable[[], datetime] | None = None):
        self.settings = settings or MarketSettings()
        self.clock = clock or utcnow
        s = self.settings
        self.book = OrderBook(Admission(
            gate_closure=s.gate_closure, min_price=s.min_price, max_price=s.max_price,
            max_order_kwh=s.max_order_kwh, horizon=s.horizon,
            participants=dict(s.participants) if s.participants is not None else None,
            admit_unregistered=s.admit_unregistered, app_user_buy_kwh=s.app_user_buy_kwh,
            app_user_sell_kwh=s.app_user_sell_kwh))
        self.rules = s.rules()
        self.cleared: dict[datetime, list[Outgoing]] = {}
        self._last_gate: datetime | None = None
        self._gates_sent: set[datetime] = set()
        self.acks = AckTracker()

    # ------------------------------------------------------------------ handlers
    def _accepted_at(self, envelope: Envelope | None) -> datetime:
        # Admission is judged at the moment the order was accepted upstream (the envelope's time), not when
        # it is processed: replaying the topic after a restart then rebuilds exactly the same book.
        now = envelope.occurred_at if envelope is not None else self.clock()
        return now if now.tzinfo is not None else now.replace(tzinfo=UTC)

    def on_place(self, envelope: Envelope, payload: EnergyOrderPlaced) -> Iterable[Outgoing]:
        return self._answer(payload, self.book.place(payload, self._accepted_at(envelope)))

    def on_cancel(self, envelope: Envelope, payload: EnergyOrderCancelled) -> Iterable[Outgoing]:
        return self._answer(payload, self.book.cancel(payload, self._accepted_at(envelope)))

    def _answer(self, payload: EnergyOrderPlaced | EnergyOrderCancelled, reason: str | None) -> list[Outgoing]:
        if reason is None:
            return []
        log.info("rejected order %s: %s", payload.order_id, reason)
        return [Outgoing(REJECTIONS, OrderRejected(
            order_id=payload.order_id, participant=payload.participant, slot=payload.slot, reason=reason))]

    def on_gate(self, envelope: Envelope, payload: GateClosed) -> Iterable[Outgoing]:
        slot = payload.slot
        if slot in self.cleared:
            return list(self.cleared[slot])
        orders = self.book.close(slot)
        trades, cleared = clear_orders(slot, orders, self.settings, self.rules)
        out = [Outgoing(TRADES, t) for t in trades]
        out.append(Outgoing(CLEARINGS, cleared))
        if self.settings.participants:
            contracts = [Contract(t.trade_id, t.seller, t.buyer, t.kwh) for t in trades]
            for sp in setpoints(contracts, self.settings.participants):
                out.append(Outgoing(DISPATCH, DispatchSetpoint(
                    device=sp.device, participant=sp.participant, slot=slot, kwh=sp.kwh, trade_ids=sp.trade_ids)))
                self.acks.issued(Owed(sp.device, sp.participant, slot, sp.kwh, sp.trade_ids))
        self.cleared[slot] = out
        self.book.forget(slot)
        self._prune()
        return list(out)

    def on_ack(self, envelope: Envelope, payload: DispatchAcknowledged) -> Iterable[Outgoing]:
        """A device confirms its set-point; confirmations of nothing owed are logged and dropped."""
        if not self.acks.acknowledged(payload.device, payload.slot):
            log.info("acknowledgement from %s for %s matched no open set-point", payload.device,
                     payload.slot.isoformat())
        return []

    def tick(self) -> Iterable[Outgoing]:
        """Close every gate the clock has passed, and report set-points no device confirmed in time."""
        missed = [Outgoing(DISPATCH, DispatchMissed(device=o.device, participant=o.participant,
                                                             slot=o.slot, kwh=o.kwh, trade_ids=o.trade_ids))
                  for o in self.acks.overdue(self.clock())]
        return missed + self._close_due_gates()

    def _close_due_gates(self) -> list[Outgoing]:
        latest = slot_start(self.clock() + self.settings.gate_closure)
        due = {s for s in self.book.open_slots() if s <= latest}
        start = latest if self._last_gate is None else self._last_gate + SLOT
        while start <= latest:
            due.add(start)
            start += SLOT
        self._last_gate = latest
        due = sorted(s for s in due if s not in self.cleared and s not in self._gates_sent)
        self._gates_sent.update(due)
        self._gates_sent = {s for s in self._gates_sent if s > latest - self.settings.horizon}
        return [Outgoing(ORDERS, GateClosed(slot=s)) for s in due]

    def _prune(self) -> None:
        keep = self.settings.keep_cleared_slots
        for slot in sorted(self.cleared)[:-keep] if len(self.cleared) > keep else []:
            del self.cleared[slot]


def build_service(settings: MarketSettings | None = None, clock: Callable[[], datetime] | None = None) -> Service:
    market = MarketService(settings, clock)
    service = Service(
        name="market",
        handlers={
            ORDERS: {EnergyOrderPlaced: market.on_place, EnergyOrderCancelled: market.on_cancel,
                     GateClosed: market.on_gate},
            DISPATCH_ACKS: {DispatchAcknowledged: market.on_ack},
        },
        timers=[Timer(interval_s=market.settings.timer_interval_s, tick=market.tick)],
        # The books live in memory: after a restart, re-read the orders of every slot that may still be open
        # (horizon ahead, plus the cleared slots whose results a redelivered gate closure must repeat).
        replay={ORDERS: market.settings.horizon + SLOT * market.settings.keep_cleared_slots,
                DISPATCH_ACKS: SLOT * market.settings.keep_cleared_slots},
    )
    service.market = market  # type: ignore[attr-defined]  # handy for tests and the demo
    return service
