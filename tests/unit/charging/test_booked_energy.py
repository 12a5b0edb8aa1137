"""The history of what plans booked: a transaction's PV part, later plans replacing only what they decide."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from services.charging.domain.booked_energy import BookedCell, BookedEnergy
from shared.units import SLOT

T0 = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)


def at(k: int) -> datetime:
    return T0 + k * SLOT


def cell(k: int, wh: int, pv: int, charger: str = "cp-1") -> BookedCell:
    return BookedCell(charger, at(k), wh, pv)


def test_pv_share_of_the_booked_slots_applies_to_the_metered_energy():
    """Booked 3 kWh PV + 3 kWh grid over two slots; 4 kWh metered -> 2 kWh PV. Never more than booked PV,
    nothing for another charger or outside the transaction's slots."""
    h = BookedEnergy()
    h.record("ev-1", at(0), [cell(0, 3000, 3000), cell(1, 3000, 0), cell(4, 3000, 3000)])
    assert h.renewable_wh("ev-1", "cp-1", at(0), at(2), 4000) == 2000
    assert h.renewable_wh("ev-1", "cp-1", at(0), at(2), 9000) == 3000
    assert h.renewable_wh("ev-1", "cp-2", at(0), at(2), 4000) == 0
    assert h.renewable_wh("ev-1", "cp-1", at(0) + timedelta(minutes=40), at(1) + timedelta(minutes=10), 1000) == 0
    assert h.renewable_wh("ev-2", "cp-1", at(0), at(2), 4000) == 0


def test_a_later_plan_replaces_only_the_slots_from_its_start_in_any_order():
    """Plan A at slot 0 books slots 0-3 as PV; plan B at slot 2 books slots 2-3 as grid. Slots 0-1 keep A's PV,
    2-3 are B's, whichever of the two is recorded first (a replay after a restart reads them in any order)."""
    plan_a = (at(0), [cell(k, 2000, 2000) for k in range(4)])
    plan_b = (at(2), [cell(k, 2000, 0) for k in (2, 3)])
    for first, second in itertools.permutations((plan_a, plan_b)):
        h = BookedEnergy()
        h.record("ev-1", *first)
        h.record("ev-1", *second)
        assert h.renewable_wh("ev-1", "cp-1", at(0), at(2), 4000) == 4000
        assert h.renewable_wh("ev-1", "cp-1", at(2), at(4), 4000) == 0
        assert [c.slot for c in h.cells("ev-1", "cp-1", at(0), at(4))] == [at(k) for k in range(4)]


def test_a_plan_that_drops_a_booking_clears_it_and_old_slots_are_forgotten():
    h = BookedEnergy(keep=timedelta(hours=2))
    h.record("ev-1", at(0), [cell(0, 1000, 1000), cell(5, 1000, 1000)])
    h.record("ev-1", at(3), [])
    assert h.cells("ev-1", "cp-1", at(0), at(10)) == [cell(0, 1000, 1000)]
    h.record("ev-1", at(5), [])
    assert h.cells("ev-1", "cp-1", at(0), at(10)) == []
