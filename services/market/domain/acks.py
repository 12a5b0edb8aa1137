"""Which dispatch set-points the devices have confirmed (step 4 of the seed: devices follow the contracts).

A set-point is owed an acknowledgement from its device; one still unacknowledged ``grace`` after its slot has
ended is missed, and the market says so once, so a dashboard sees contracts that no device carried out.
Pure: the time is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from shared.units import SLOT


@dataclass(frozen=True)
class Owed:
    device: str
    participant: str
    slot: datetime
    kwh: Decimal
    trade_ids: tuple[str, ...]


@dataclass
class AckTracker:
    grace: timedelta = timedelta(minutes=5)
    _owed: dict[tuple[str, datetime], Owed] = field(default_factory=dict)
    _done: set[tuple[str, datetime]] = field(default_factory=set)

    def issued(self, owed: Owed) -> None:
        key = (owed.device, owed.slot)
        if key not in self._done:
            self._owed[key] = owed

    def acknowledged(self, device: str, slot: datetime) -> bool:
        """Record a device's confirmation; False when nothing was owed (unknown or already settled)."""
        key = (device, slot)
        self._done.add(key)
        return self._owed.pop(key, None) is not None

    def overdue(self, now: datetime) -> list[Owed]:
        """Set-points whose slot ended more than ``grace`` ago without an acknowledgement (reported once)."""
        late = [o for o in self._owed.values() if o.slot + SLOT + self.grace <= now]
        for o in late:
            del self._owed[(o.device, o.slot)]
            self._done.add((o.device, o.slot))
        return sorted(late, key=lambda o: (o.slot, o.device))

    def pending(self) -> list[Owed]:
        return sorted(self._owed.values(), key=lambda o: (o.slot, o.device))
