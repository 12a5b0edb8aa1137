"""Who may trade and with which devices: the participant registry the order checks and dispatch use."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

DeviceKind = Literal["battery", "ev", "pv", "load"]
STORAGE_KINDS = ("battery", "ev")
SLOT_HOURS = Decimal("0.5")


@dataclass(frozen=True)
class Device:
    device_id: str
    kind: DeviceKind
    capacity_kwh: Decimal = Decimal("0")     # storage size (battery, EV) or 0
    power_kw: Decimal = Decimal("0")         # charge/discharge (storage) or peak (PV) power

    @property
    def is_storage(self) -> bool:
        return self.kind in STORAGE_KINDS

    def deliverable_kwh(self) -> Decimal:
        """Most this device can feed in during one slot: PV at its peak, storage at full power (or its size)."""
        if self.kind == "pv":
            return self.power_kw * SLOT_HOURS
        if self.is_storage:
            return min(self.capacity_kwh, self.power_kw * SLOT_HOURS)
        return Decimal(0)


@dataclass(frozen=True)
class Participant:
    """A market participant as the market sees it: its site and the most it may trade in one slot."""

    participant_id: str
    kind: str = "household"
    site: str | None = None
    max_order_kwh: Decimal = Decimal("100")
    devices: tuple[Device, ...] = ()

    @property
    def storage(self) -> tuple[Device, ...]:
        return tuple(d for d in self.devices if d.is_storage)

    def deliverable_kwh(self) -> Decimal:
        """Most the participant's registered devices can deliver in one slot (0 without a device)."""
        return sum((d.deliverable_kwh() for d in self.devices), Decimal(0))
