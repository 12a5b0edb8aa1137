"""What the plans booked per car, charger and slot, kept after the slots pass: a finished transaction's
renewable share is read from it.

The meter says how much a car took, not where it came from. The planner booked each slot's energy as on-site
PV or grid, and the chargers were driven by that plan, so a transaction's PV is the PV share of what was booked
for that car on that charger in the slots the transaction ran, applied to the metered energy: never more PV
than was booked, never more than was metered. Energy taken with nothing booked (an unplanned charge, or a
charger the plan did not name) counts as grid.

A re-plan decides only the slots from its first open slot (``planned_at``) on; the slots before it were
decided by earlier plans and stay as they were. Each slot keeps the plan that decided it last by
``planned_at``, so the same plans read in any order (live, or replayed from ``ev.bookings`` after a restart)
leave the same history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.units import SLOT


@dataclass(frozen=True)
class BookedCell:
    """Energy booked for a car on one charger in one slot (Wh), and how much of it is on-site PV."""

    charger: str
    slot: datetime
    wh: int
    pv_wh: int


class BookedEnergy:
    """Per car, each slot's bookings with the ``planned_at`` of the plan that made them."""

    def __init__(self, keep: timedelta = timedelta(days=2)) -> None:
        self.keep = keep
        self._by_car: dict[str, dict[datetime, tuple[datetime, tuple[BookedCell, ...]]]] = {}

    def record(self, vehicle: str, planned_at: datetime, cells: Iterable[BookedCell]) -> None:
        """A plan for ``vehicle`` made at ``planned_at``: it replaces what older plans booked from then on."""
        mine = self._by_car.setdefault(vehicle, {})
        new: dict[datetime, list[BookedCell]] = {}
        for cell in cells:
            if cell.slot >= planned_at:
                new.setdefault(cell.slot, []).append(cell)
        for slot in [s for s, (at, _) in mine.items() if (s >= planned_at and at <= planned_at)
                     or s < planned_at - self.keep]:
            del mine[slot]
        for slot, booked in new.items():
            if slot not in mine:        # otherwise a newer plan decided it
                mine[slot] = (planned_at, tuple(booked))

    def cells(self, vehicle: str, charger: str, start: datetime, end: datetime) -> list[BookedCell]:
        """What was booked for ``vehicle`` on ``charger`` in the slots that overlap ``[start, end)``."""
        return [c for slot, (_, booked) in sorted(self._by_car.get(vehicle, {}).items())
                if slot < end and slot + SLOT > start for c in booked if c.charger == charger]

    def renewable_wh(self, vehicle: str, charger: str, start: datetime, end: datetime, metered_wh: int) -> int:
        """The PV part of ``metered_wh`` taken by ``vehicle`` on ``charger`` from ``start`` to ``end``."""
        cells = self.cells(vehicle, charger, start, end)
        booked, pv = sum(c.wh for c in cells), sum(c.pv_wh for c in cells)
        if booked <= 0 or metered_wh <= 0:
            return 0
        return min(pv, metered_wh * pv // booked)
