"""Depot planning over couriers that differ: each round fits its courier's capacity and shift, and is handed
to the courier who drives it."""

from __future__ import annotations

import numpy as np

from services.logistics.domain.planner import SERVICE_S, Courier, Parcel, Plan, plan_depot

NOW = 10 * 3600
DEPOT = 0
# depot and five homes, seconds: 300 s from the depot to any home, 200 s between homes
TRAVEL = np.full((6, 6), 200, dtype=np.int64)
TRAVEL[0, :] = TRAVEL[:, 0] = 300
np.fill_diagonal(TRAVEL, 0)


def parcel(pid: str, place: int, weight: int, ready: int = NOW, due: int = NOW + 2 * 3600) -> Parcel:
    return Parcel(pid, place, ready, due, weight)


def check_plan(plan: Plan, parcels: list[Parcel], couriers: list[Courier]) -> None:
    """Every round within its courier's capacity, back at the depot by the end of its shift, one per courier."""
    by_id = {p.id: p for p in parcels}
    courier = {c.id: c for c in couriers}
    assert len({r.courier for r in plan.rounds}) == len(plan.rounds)
    for r in plan.rounds:
        load = sum(by_id[p].weight_g for p in r.parcels)
        assert load <= courier[r.courier].capacity_g, (r.courier, load)
        back = r.times[-1] + SERVICE_S + int(TRAVEL[by_id[r.parcels[-1]].place, DEPOT])
        assert back <= courier[r.courier].shift_end, (r.courier, back)
        for pid, t in zip(r.parcels, r.times, strict=True):
            assert by_id[pid].ready <= t <= by_id[pid].due


def test_a_parcel_only_the_larger_courier_can_carry_is_delivered_by_it():
    """15 kg with a 5 kg and a 20 kg courier: delivered, and by the 20 kg one (not refused, not an error)."""
    couriers = [Courier("small", 500, NOW + 4 * 3600), Courier("big", 2000, NOW + 4 * 3600)]
    parcels = [parcel("heavy", 1, 1500), parcel("light", 2, 200)]
    plan = plan_depot(DEPOT, parcels, couriers, TRAVEL, NOW)
    assert plan.undeliverable == {}
    carrier = {p: r.courier for r in plan.rounds for p in r.parcels}
    assert carrier["heavy"] == "big"
    check_plan(plan, parcels, couriers)


def test_a_courier_whose_shift_ends_early_gets_no_round_past_it():
    """The first courier goes home 20 min from now: a parcel whose window opens in an hour is not its."""
    couriers = [Courier("early", 2000, NOW + 1200), Courier("late", 2000, NOW + 4 * 3600)]
    parcels = [parcel("soon", 1, 300, due=NOW + 1800), parcel("evening", 2, 300, ready=NOW + 3600)]
    plan = plan_depot(DEPOT, parcels, couriers, TRAVEL, NOW)
    assert plan.undeliverable == {}
    carrier = {p: r.courier for r in plan.rounds for p in r.parcels}
    assert carrier["evening"] == "late"
    check_plan(plan, parcels, couriers)


def test_rounds_go_to_the_couriers_who_drive_them_when_some_get_none():
    """Two of four couriers have ended their shift: the two rounds go to the two still working."""
    couriers = [Courier("off-1", 1000, NOW - 600), Courier("a", 1000, NOW + 4 * 3600),
                Courier("off-2", 1000, NOW), Courier("b", 1000, NOW + 4 * 3600)]
    parcels = [parcel(f"p{k}", k, 400) for k in range(1, 5)]   # 16 kg: more than one courier carries
    plan = plan_depot(DEPOT, parcels, couriers, TRAVEL, NOW)
    assert plan.undeliverable == {}
    assert sorted(r.courier for r in plan.rounds) == ["a", "b"]
    check_plan(plan, parcels, couriers)


def test_a_parcel_for_after_every_shift_is_refused_with_the_reason_not_an_error():
    """A window that opens after the last shift ends (tomorrow's parcel) is answered, and the rest planned."""
    couriers = [Courier("a", 2000, NOW + 2 * 3600)]
    parcels = [parcel("tomorrow", 1, 200, ready=NOW + 20 * 3600, due=NOW + 22 * 3600), parcel("today", 2, 200)]
    plan = plan_depot(DEPOT, parcels, couriers, TRAVEL, NOW)
    assert plan.undeliverable == {"tomorrow": "its delivery window opens after every courier's shift ends"}
    assert [r.parcels for r in plan.rounds] == [("today",)]
    check_plan(plan, parcels, couriers)
