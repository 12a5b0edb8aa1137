"""The order book: one list of live orders per slot, with the admission rules and gate closure.

Pure apart from its own state: the current time is always passed in. Each rule returns a reason the
sender can read; a redelivered order (same id, same content) is accepted silently, once.

Order ids belong to their participant: the book keys orders by (participant, order id), so two participants
may use the same id and one cannot learn whether another's id exists. Limits hold per participant and slot
(the sum of its orders on a side), and a seller may offer only what its registered devices can deliver in
one slot, or, without a registered device, the app-user allowance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from services.market.domain.registry import Participant
from shared.accounts import is_system_account
from shared.contracts.energy import EnergyOrderCancelled, EnergyOrderPlaced
from shared.units import SLOT

OrderKey = tuple[str, str]  # (participant, order id)


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
    # App users the registry does not know (admitted with ``admit_unregistered``): what they may buy and sell
    # in one slot, summed over their orders. Selling needs a device; this is the allowance for a home whose
    # panels are not registered yet (3 kWh is a 6 kWp rooftop's peak half hour).
    app_user_buy_kwh: Decimal = Decimal("10")
    app_user_sell_kwh: Decimal = Decimal("3")


def gate_time(slot: datetime, gate_closure: timedelta) -> datetime:
    return slot - gate_closure


@dataclass
class OrderBook:
    admission: Admission = field(default_factory=Admission)
    _slots: dict[datetime, dict[OrderKey, EnergyOrderPlaced]] = field(default_factory=dict)
    _slot_of: dict[OrderKey, datetime] = field(default_factory=dict)
    _cancelled: set[OrderKey] = field(default_factory=set)
    _closed: set[datetime] = field(default_factory=set)
    # slot -> participant -> side -> kWh of its live orders: the one-side and per-slot limit rules in O(1),
    # not a scan of the slot
    _held: dict[datetime, dict[str, dict[str, Decimal]]] = field(default_factory=dict)

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
        key = (order.participant, order.order_id)
        if key in self._cancelled:
            return f"order {order.order_id} was cancelled; place a new order id"
        existing_slot = self._slot_of.get(key)
        if existing_slot is not None:
            same = self._slots.get(existing_slot, {}).get(key)
            if same is not None and same.model_dump(exclude={"placed_at"}) == order.model_dump(exclude={"placed_at"}):
                return None
            return f"duplicate order id {order.order_id}"
        reason = self._check(order, now)
        if reason:
            return reason
        self._slots.setdefault(order.slot, {})[key] = order
        self._slot_of[key] = order.slot
        held = self._held.setdefault(order.slot, {}).setdefault(order.participant, {})
        held[order.side] = held.get(order.side, Decimal(0)) + order.kwh
        return None

    def cancel(self, cancel: EnergyOrderCancelled, now: datetime) -> str | None:
        """Take the participant's own order out of its slot; anyone else's id reads as unknown."""
        key = (cancel.participant, cancel.order_id)
        if key in self._cancelled:
            return None
        slot = self._slot_of.get(key)
        if slot is None or slot != cancel.slot:
            return f"unknown order {cancel.order_id} in slot {cancel.slot.isoformat()}"
        if self._late(slot, now):
            return f"gate closed for slot {slot.isoformat()}; the order stands"
        order = self._slots[slot].pop(key)
        del self._slot_of[key]
        self._held[slot][order.participant][order.side] -= order.kwh
        self._cancelled.add(key)
        return None

    def close(self, slot: datetime) -> list[EnergyOrderPlaced]:
        """Close the gate of ``slot`` (idempotent) and return its orders."""
        self._closed.add(slot)
        return self.orders(slot)

    def forget(self, slot: datetime) -> None:
        """Drop a cleared slot's orders to bound memory (its ids stay known as a closed slot's)."""
        for key in self._slots.pop(slot, {}):
            self._slot_of.pop(key, None)
        self._held.pop(slot, None)

    # ------------------------------------------------------------------ rules
    def _late(self, slot: datetime, now: datetime) -> bool:
        return slot in self._closed or now >= gate_time(slot, self.admission.gate_closure)

    def _check(self, order: EnergyOrderPlaced, now: datetime) -> str | None:
        a = self.admission
        slot = order.slot
        if is_system_account(order.participant):
            return f"{order.participant} is a system account and cannot place orders"
        if slot + SLOT <= now:
            return f"slot {slot.isoformat()} is in the past"
        if self._late(slot, now):
            return f"gate closed for slot {slot.isoformat()} (closes {a.gate_closure} before the start)"
        if slot > now + a.horizon:
            return f"slot {slot.isoformat()} is more than {a.horizon} ahead"
        if order.kwh <= 0:
            return "kwh must be positive"
        who = a.participants.get(order.participant) if a.participants is not None else None
        if a.participants is not None and who is None and not a.admit_unregistered:
            return f"unknown participant {order.participant}"
        if who is not None and order.site is not None and who.site is not None and order.site != who.site:
            return f"site {order.site} is not participant {order.participant}'s site ({who.site})"
        if not a.min_price <= order.limit_price <= a.max_price:
            return f"price {order.limit_price} yen/kWh is outside {a.min_price}..{a.max_price}"
        if order.limit_price + order.green_premium > a.max_price:
            return f"price plus green premium exceeds {a.max_price} yen/kWh"
        held = self._held.get(slot, {}).get(order.participant, {})
        for side, kwh in held.items():
            if kwh > 0 and side != order.side:
                return (f"participant {order.participant} already has a {side} order in this slot; "
                        "net the position into one side")
        total = held.get(order.side, Decimal(0)) + order.kwh
        for cap, what in self._limits(order, who):
            if total > cap:
                return (f"{order.side} of {order.kwh} kWh would bring {order.participant}'s {order.side} orders "
                        f"in slot {slot.isoformat()} to {total} kWh, {total - cap} kWh over {what} ({cap} kWh)")
        return None

    def _limits(self, order: EnergyOrderPlaced, who: Participant | None) -> list[tuple[Decimal, str]]:
        """The per-slot limits this participant's orders on this side must fit under, each with its name."""
        a = self.admission
        limits = [(a.max_order_kwh, "the market's per-participant slot limit")]
        if who is not None:
            limits.append((who.max_order_kwh, "the registered per-slot limit of this participant"))
            if order.side == "sell":
                limits.append((who.deliverable_kwh(), "what its registered devices can deliver in one slot"))
        elif a.participants is not None:  # an app user the registry does not know
            if order.side == "sell":
                limits.append((a.app_user_sell_kwh, "the app-user sell allowance without a registered device"))
            else:
                limits.append((a.app_user_buy_kwh, "the app-user buy allowance per slot"))
        return limits
