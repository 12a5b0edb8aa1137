"""The order book: one list of live orders per slot, with the admission rules and gate closure.

Pure apart from its own state: the current time is always passed in. Each rule returns a reason the
sender can read; a redelivered order (same id, same content) is accepted silently, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from services.market.domain.registry import Participant
from shared.events import SLOT, EnergyOrderCancelled, EnergyOrderPlaced


@dataclass(frozen=True)
class Admission:
    """The book's limits (a subset of the market settings, so the book stays independent of them)."""

    gate_closure: timedelta = timedelta(minutes=5)
    min_price: Decimal = Decimal("0")
    max_price: Decimal = Decimal("100")
    max_order_kwh: Decimal = Decimal("1000")
    horizon: timedelta = timedelta(days=2)
    participants: dict[str, Participant] | None = None
    admit_unregistered: bool = False


def gate_time(slot: datetime, gate_closure: timedelta) -> datetime:
    return slot - gate_closure


@dataclass
class OrderBook:
    admission: Admission = field(default_factory=Admission)
    _slots: dict[datetime, dict[str, EnergyOrderPlaced]] = field(default_factory=dict)
    _slot_of: dict[str, datetime] = field(default_factory=dict)
    _cancelled: set[str] = field(default_factory=set)
    _closed: set[datetime] = field(default_factory=set)
    # slot -> participant -> side -> live orders: the one-side-per-slot rule in O(1), not a scan of the slot
    _sides: dict[datetime, dict[str, dict[str, int]]] = field(default_factory=dict)

    # ------------------------------------------------------------------ queries
    def orders(self, slot: datetime) -> list[EnergyOrderPlaced]:
        return list(self._slots.get(slot, {}).values())

    def open_slots(self) -> list[datetime]:
        return sorted(s for s in self._slots if s not in self._closed)

    def is_closed(self, slot: datetime) -> bool:
        return slot in self._closed

    # ------------------------------------------------------------------ commands
    def place(self, order: EnergyOrderPlaced, now: datetime) -> str | None:
        """Admit the order, or return why not."""
        if order.order_id in self._cancelled:
            return f"order {order.order_id} was cancelled; place a new order id"
        existing_slot = self._slot_of.get(order.order_id)
        if existing_slot is not None:
            same = self._slots.get(existing_slot, {}).get(order.order_id)
            if same is not None and same.model_dump(exclude={"placed_at"}) == order.model_dump(exclude={"placed_at"}):
                return None
            return f"duplicate order id {order.order_id}"
        reason = self._check(order, now)
        if reason:
            return reason
        self._slots.setdefault(order.slot, {})[order.order_id] = order
        self._slot_of[order.order_id] = order.slot
        sides = self._sides.setdefault(order.slot, {}).setdefault(order.participant, {})
        sides[order.side] = sides.get(order.side, 0) + 1
        return None

    def cancel(self, cancel: EnergyOrderCancelled, now: datetime) -> str | None:
        if cancel.order_id in self._cancelled:
            return None
        slot = self._slot_of.get(cancel.order_id)
        if slot is None or slot != cancel.slot:
            return f"unknown order {cancel.order_id} in slot {cancel.slot.isoformat()}"
        order = self._slots[slot][cancel.order_id]
        if order.participant != cancel.participant:
            return f"order {cancel.order_id} belongs to another participant"
        if self._late(slot, now):
            return f"gate closed for slot {slot.isoformat()}; the order stands"
        del self._slots[slot][cancel.order_id]
        del self._slot_of[cancel.order_id]
        self._sides[slot][order.participant][order.side] -= 1
        self._cancelled.add(cancel.order_id)
        return None

    def close(self, slot: datetime) -> list[EnergyOrderPlaced]:
        """Close the gate of ``slot`` (idempotent) and return its orders."""
        self._closed.add(slot)
        return self.orders(slot)

    def forget(self, slot: datetime) -> None:
        """Drop a cleared slot's orders to bound memory (its ids stay known as a closed slot's)."""
        for order_id in self._slots.pop(slot, {}):
            self._slot_of.pop(order_id, None)
        self._sides.pop(slot, None)

    # ------------------------------------------------------------------ rules
    def _late(self, slot: datetime, now: datetime) -> bool:
        return slot in self._closed or now >= gate_time(slot, self.admission.gate_closure)

    def _check(self, order: EnergyOrderPlaced, now: datetime) -> str | None:
        a = self.admission
        slot = order.slot
        if slot + SLOT <= now:
            return f"slot {slot.isoformat()} is in the past"
        if self._late(slot, now):
            return f"gate closed for slot {slot.isoformat()} (closes {a.gate_closure} before the start)"
        if slot > now + a.horizon:
            return f"slot {slot.isoformat()} is more than {a.horizon} ahead"
        if order.kwh <= 0:
            return "kwh must be positive"
        max_kwh = a.max_order_kwh
        if a.participants is not None:
            who = a.participants.get(order.participant)
            if who is None and not a.admit_unregistered:
                return f"unknown participant {order.participant}"
            if who is not None:
                max_kwh = min(max_kwh, who.max_order_kwh)
                if order.site is not None and who.site is not None and order.site != who.site:
                    return f"site {order.site} is not participant {order.participant}'s site ({who.site})"
        if order.kwh > max_kwh:
            return f"{order.kwh} kWh exceeds the {max_kwh} kWh a participant may trade in one slot"
        if not a.min_price <= order.limit_price <= a.max_price:
            return f"price {order.limit_price} yen/kWh is outside {a.min_price}..{a.max_price}"
        if order.limit_price + order.green_premium > a.max_price:
            return f"price plus green premium exceeds {a.max_price} yen/kWh"
        held = self._sides.get(slot, {}).get(order.participant, {})
        for side, live in held.items():
            if live and side != order.side:
                return (f"participant {order.participant} already has a {side} order in this slot; "
                        "net the position into one side")
        return None
