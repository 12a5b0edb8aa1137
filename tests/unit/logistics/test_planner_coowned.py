"""Co-owned cars in a depot's plan: a round on a car lies inside one of its free windows, carport to carport;
with no free window the car is unused and couriers serve what they can; a car is taken only when it pays."""

from __future__ import annotations

import numpy as np
import pytest

from services.logistics.domain.planner import SERVICE_S, CarWindow, Courier, Parcel, Plan, plan_depot

NOW = 10 * 3600
DEPOT, CARPORT = 0, 6
# depot, five homes and the carport (seconds): 300 s depot-home, 200 s home-home, 600 s carport-depot,
# 400 s carport-home
TRAVEL = np.full((7, 7), 200, dtype=np.int64)
TRAVEL[0, :] = TRAVEL[:, 0] = 300
TRAVEL[6, :] = TRAVEL[:, 6] = 400
TRAVEL[0, 6] = TRAVEL[6, 0] = 600
np.fill_diagonal(TRAVEL, 0)
COURIERS = [Courier("c1", 2_000, NOW + 8 * 3600), Courier("c2", 2_000, NOW + 8 * 3600)]


def parcel(pid: str, place: int, weight: int, ready: int = NOW, due: int = NOW + 3 * 3600) -> Parcel:
    return Parcel(pid, place, ready, due, weight)


def car(start: int, end: int, capacity: int = 10_000, parcels: int = 10, cid: str = "ev-leaf") -> CarWindow:
    return CarWindow(cid, CARPORT, capacity, parcels, start, end)


def assert_inside_windows(plan: Plan, parcels: list[Parcel]) -> None:
    """Every car round from leaving the carport to being back lies inside its window, with its load and count,
    and every hand-over inside its parcel's window."""
    by_id = {p.id: p for p in parcels}
    for r in plan.rounds:
        for pid, t in zip(r.parcels, r.times, strict=True):
            assert by_id[pid].ready <= t <= by_id[pid].due
        if r.window is None:
            continue
        w = r.window
        assert r.leave is not None and r.back is not None
        assert w.start <= r.leave < r.back <= w.end, (r, w)
        first, last = by_id[r.parcels[0]], by_id[r.parcels[-1]]
        assert r.leave + TRAVEL[CARPORT, DEPOT] + TRAVEL[DEPOT, first.place] <= r.times[0]
        assert r.back == r.times[-1] + SERVICE_S + TRAVEL[last.place, CARPORT]
        assert sum(by_id[p].weight_g for p in r.parcels) <= w.capacity_g and len(r.parcels) <= w.max_parcels


def test_a_parcel_no_courier_can_carry_goes_on_the_free_car_inside_its_window():
    parcels = [parcel("heavy", 1, 8_000), parcel("light", 2, 500)]
    plan = plan_depot(DEPOT, parcels, COURIERS, TRAVEL, NOW, 0.3, cars=[car(NOW, NOW + 2 * 3600)])
    assert plan.undeliverable == {}
    carrier = {p: r.courier for r in plan.rounds for p in r.parcels}
    assert carrier["heavy"] == "ev-leaf"   # (the light one may ride along: once the car is out it costs less)
    assert_inside_windows(plan, parcels)


def test_without_a_free_window_the_car_is_unused_and_couriers_serve_the_rest():
    parcels = [parcel("heavy", 1, 8_000), parcel("light", 2, 500)]
    # a window too short for carport -> depot -> home -> carport (600 + 300 + 120 + 400 s), and one already over
    cars = [car(NOW, NOW + 1_000), car(NOW - 7_200, NOW - 3_600)]
    plan = plan_depot(DEPOT, parcels, COURIERS, TRAVEL, NOW, 0.3, cars=cars)
    assert plan.undeliverable == {"heavy": "heavier than any courier can carry"}
    assert [r.courier for r in plan.rounds] in (["c1"], ["c2"]) and plan.rounds[0].window is None


def test_a_later_window_gets_a_round_that_leaves_the_carport_after_it_opens():
    parcels = [parcel("heavy", 1, 8_000, due=NOW + 5 * 3600)]
    plan = plan_depot(DEPOT, parcels, COURIERS, TRAVEL, NOW, 0.3, cars=[car(NOW + 2 * 3600, NOW + 4 * 3600)])
    [r] = plan.rounds
    assert r.courier == "ev-leaf" and r.leave == NOW + 2 * 3600
    assert_inside_windows(plan, parcels)


def test_the_car_leaves_as_late_as_the_parcels_windows_allow_so_it_is_held_no_longer_than_it_drives():
    parcels = [parcel("heavy", 1, 8_000, ready=NOW + 3 * 3600, due=NOW + 4 * 3600)]
    plan = plan_depot(DEPOT, parcels, COURIERS, TRAVEL, NOW, 0.3, cars=[car(NOW, NOW + 6 * 3600)])
    [r] = plan.rounds
    assert r.times == (NOW + 3 * 3600,)
    assert r.leave == NOW + 3 * 3600 - 300 - 600 and r.back == NOW + 3 * 3600 + SERVICE_S + 400


def test_the_car_is_not_taken_when_the_couriers_serve_everything_at_little_more_cost():
    parcels = [parcel(f"p{k}", k, 500) for k in range(1, 6)]
    plan = plan_depot(DEPOT, parcels, COURIERS, TRAVEL, NOW, 0.3, cars=[car(NOW, NOW + 6 * 3600)])
    assert plan.undeliverable == {} and all(r.window is None for r in plan.rounds)


def test_couriers_gone_the_car_serves_what_fits_its_count_and_window():
    parcels = [parcel(f"p{k}", k, 500) for k in range(1, 6)]
    plan = plan_depot(DEPOT, parcels, [], TRAVEL, NOW, 0.3, cars=[car(NOW, NOW + 6 * 3600, parcels=3)])
    [r] = plan.rounds
    assert r.courier == "ev-leaf" and len(r.parcels) == 3 and len(plan.undeliverable) == 2
    assert_inside_windows(plan, parcels)


@pytest.mark.parametrize("seed", range(6))
def test_random_depots_never_put_a_car_round_outside_a_free_window(seed):
    rng = np.random.default_rng(seed)
    n = 12
    pts = rng.uniform(0, 3000, size=(n + 2, 2))
    travel = np.rint(np.abs(pts[:, None, :] - pts[None, :, :]).sum(axis=2) / 5).astype(np.int64)
    parcels = []
    for k in range(1, n + 1):
        ready = NOW + int(rng.integers(0, 4 * 3600))
        parcels.append(Parcel(f"p{k}", k, ready, ready + int(rng.integers(1800, 3 * 3600)),
                              int(rng.integers(200, 9_000))))
    couriers = [Courier("c1", 3_000, NOW + 3 * 3600)]
    windows = [CarWindow("ev-leaf", n + 1, 10_000, 5, NOW + 1800, NOW + 3 * 3600),
               CarWindow("ev-leaf", n + 1, 10_000, 5, NOW + 4 * 3600, NOW + 7 * 3600),
               CarWindow("ev-sakura", n + 1, 6_000, 3, NOW, NOW + 5 * 3600)]
    plan = plan_depot(0, parcels, couriers, travel, NOW, 0.3, cars=windows)
    by_id = {p.id: p for p in parcels}
    assert {p for r in plan.rounds for p in r.parcels} | set(plan.undeliverable) == set(by_id)
    for r in plan.rounds:
        if r.window is not None:
            w = r.window
            assert r.courier == w.car and w.start <= r.leave < r.back <= w.end
            assert r.leave + travel[n + 1, 0] + travel[0, by_id[r.parcels[0]].place] <= r.times[0]
            assert r.back >= r.times[-1] + SERVICE_S + travel[by_id[r.parcels[-1]].place, n + 1]
            assert len(r.parcels) <= w.max_parcels and sum(by_id[p].weight_g for p in r.parcels) <= w.capacity_g
        for pid, t in zip(r.parcels, r.times, strict=True):
            assert by_id[pid].ready <= t <= by_id[pid].due


def test_a_parcel_rides_along_on_a_car_that_is_out_only_when_that_saves_its_stop_cost():
    """The light parcel costs a courier 600 s (depot, home, depot) and the car's round 200 s more: it rides along at
    a stop cost of 300 s, and goes to a courier at 1,000 s."""
    parcels = [parcel("heavy", 1, 8_000), parcel("light", 2, 500)]
    for stop_cost, light_on_car in ((300, True), (1_000, False)):
        window = CarWindow("ev-leaf", CARPORT, 10_000, 10, NOW, NOW + 2 * 3600, stop_cost=stop_cost)
        plan = plan_depot(DEPOT, parcels, COURIERS, TRAVEL, NOW, 0.3, cars=[window])
        carrier = {p: r.courier for r in plan.rounds for p in r.parcels}
        assert carrier["heavy"] == "ev-leaf" and (carrier["light"] == "ev-leaf") is light_on_car
        assert_inside_windows(plan, parcels)
