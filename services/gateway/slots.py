"""Which slots the gateway sends on: not begun yet, and within the market's horizon.

The market judges gate closure itself (and says why on /v1/energy/rejections); what is plainly out of range
is refused here, at once, naming the field.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from services.gateway.errors import FieldRuleError, StateConflict
from shared.contracts.base import utcnow
from shared.units import SLOT

# How far ahead the market takes orders unless configured otherwise: the composition root hands the gateway
# the market's own setting (CITYMATCH_MARKET_HORIZON_DAYS) as ``Gateway.order_horizon``.
DEFAULT_HORIZON = timedelta(days=2)


def _beyond(slot: datetime, ahead: timedelta, now: datetime) -> str | None:
    if slot > now + ahead:
        return f"slot {slot.isoformat()} is more than {ahead.days} days ahead (the market's horizon)"
    return None


def check_order_window(slot: datetime, horizon: timedelta, now: datetime | None = None) -> None:
    """An order's slot must not have begun and must lie within the horizon (422 naming body.slot)."""
    now = now or utcnow()
    problem = _beyond(slot, horizon, now)
    if problem is None and slot + SLOT <= now:
        problem = f"slot {slot.isoformat()} is in the past"
    if problem:
        raise FieldRuleError(("body", "slot"), problem)


def check_cancel_window(slot: datetime, horizon: timedelta, now: datetime | None = None) -> None:
    """No order can exist beyond the horizon, so a cancellation there is a mistake (422 naming query.slot)."""
    problem = _beyond(slot, horizon, now or utcnow())
    if problem:
        raise FieldRuleError(("query", "slot"), problem)


def check_closable(slot: datetime, horizon: timedelta, now: datetime | None = None) -> None:
    """The operator may close a slot that has not begun, within the horizon; a begun slot is already closed."""
    now = now or utcnow()
    problem = _beyond(slot, horizon, now)
    if problem:
        raise FieldRuleError(("path", "slot"), problem)
    if slot <= now:
        raise StateConflict(f"slot {slot.isoformat()} has begun; its gate is already closed")
