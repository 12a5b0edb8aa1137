"""The fleet day on a small seeded day: same seed same numbers, joint never needs more vehicles than the
domains alone, batteries within bounds, every served ride and parcel inside its window (the domains' own
checkers), and the report command writes its files."""

from __future__ import annotations

import json
from itertools import pairwise

import numpy as np
import pytest

from services.charging.settings import ChargingSettings
from shared.roads import load_drive_network
from simulator.energy.weather import pv_kwh_per_kwp, read_climate
from simulator.fleet_day.assign import first_fit, max_overlap
from simulator.fleet_day.compare import PLANS, compare_day
from simulator.fleet_day.demand import build_day, hourly_to_blocks
from simulator.fleet_day.params import FleetDayParams, with_overrides

SMALL = FleetDayParams(seed=7, rides=16, parcels=10, darp_s=10.0, vrptw_s=0.5, assign_s=1.0)


@pytest.fixture(scope="module")
def inputs():
    net = load_drive_network()
    s = ChargingSettings()
    return net, pv_kwh_per_kwp(read_climate(), SMALL.month, days=1, first_day=SMALL.day), \
        hourly_to_blocks(s.buy_yen), hourly_to_blocks(s.sell_yen)


def _compare(inputs, p: FleetDayParams = SMALL):
    net, pv, buy, sell = inputs
    return compare_day(build_day(p, net, pv, buy, sell), p)


@pytest.fixture(scope="module")
def small(inputs):
    return _compare(inputs)


def test_same_seed_same_numbers_and_another_seed_another_day(inputs, small):
    again = _compare(inputs)
    assert again.metrics == small.metrics
    assert [p.vehicle_of for p in again.plans.values()] == [p.vehicle_of for p in small.plans.values()]
    net, pv, buy, sell = inputs
    other = build_day(with_overrides(SMALL, seed=8), net, pv, buy, sell)
    assert [r.earliest_pickup for r in other.rides] != [r.earliest_pickup for r in small.day.rides]


def test_joint_never_needs_more_vehicles(small):
    m = small.metrics
    assert m["joint"]["vehicles"] <= m["sequential"]["vehicles"]
    assert m["sequential"]["vehicles"] == m["sequential"]["vehicles_rides"] + m["sequential"]["vehicles_parcels"]
    assert m["joint"]["vehicles"] >= max_overlap(small.plans["joint"].duties)


def test_same_demand_same_routes_on_both_sides(small):
    """The difference comes from who drives which duty: the same riders, parcels and kilometres."""
    m = small.metrics
    for key in ("riders_served", "parcels_served", "vehicle_km", "revenue_yen", "driven_kwh"):
        assert len({m[k][key] for k in PLANS}) == 1, key
    assert m["joint"]["riders_served"] > 0 and m["joint"]["parcels_served"] > 0


def test_batteries_within_bounds_at_all_times(small):
    p = small.params
    for key, plan in small.plans.items():
        soc = plan.energy.soc_wh
        assert soc.shape == (plan.vehicles, 49)
        assert soc.min() >= 0 and soc.max() <= p.battery_kwh * 1000, key
        assert plan.energy.problems == (), key
        assert plan.energy.unmet_departures == 0, key
        if key != "sequential":      # the planned charging keeps the reserve and ends the day as it began
            assert soc.min() >= p.reserve_kwh * 1000 - 1, key
            assert (soc[:, -1] >= round(p.start_soc * p.battery_kwh * 1000) - 1).all(), key


def test_no_vehicle_drives_two_duties_at_once_nor_charges_while_out(small):
    for plan in small.plans.values():
        for v in range(plan.vehicles):
            mine = sorted((d for d, k in zip(plan.duties, plan.vehicle_of, strict=True) if k == v),
                          key=lambda d: d.start_s)
            for a, b in pairwise(mine):
                assert a.last_block < b.first_block
        out = plan.energy.busy > 0
        assert not (out & ((plan.energy.charge_wh > 0) | (plan.energy.discharge_wh > 0))).any()


def test_every_served_ride_and_parcel_within_its_window(small):
    """The mobility and logistics cores' own checkers accept the routes; each stop of a duty is in its window
    and the duty leaves the depot before and returns after its stops."""
    assert small.rides.violations == () and small.parcels.violations == ()
    rides = {r.id: r for r in small.day.rides}
    parcels = {x.id: x for _, x in small.day.parcels}
    for duty in small.plans["joint"].duties:
        times = [t for _, _, t, _ in duty.stops]
        assert duty.start_s <= min(times) and max(times) < duty.end_s
        for item, _place, t, latest in duty.stops:
            assert t <= latest
            if item in rides:
                assert rides[item].earliest_pickup <= t <= rides[item].latest_arrival
            else:
                assert parcels[item].ready <= t <= parcels[item].due
    served = [s for d in small.plans["joint"].duties for s in d.served]
    assert len(served) == len(set(served)) == small.rides.served + small.parcels.served


def test_first_fit_is_a_lower_bound_partner():
    from simulator.fleet_day.duties import RIDE, Duty
    duties = [Duty("a", RIDE, 3600, 7200, 1000, (), 0), Duty("b", RIDE, 5400, 9000, 1000, (), 0),
              Duty("c", RIDE, 9000, 12600, 1000, (), 0)]
    assert max_overlap(duties) == 2
    assert len(set(first_fit(duties))) == 2


def test_params_refuse_unknown_names_and_bad_values():
    with pytest.raises(ValueError, match="unknown parameter"):
        with_overrides(SMALL, ridez=3)
    with pytest.raises(ValueError, match="reserve_kwh"):
        FleetDayParams(reserve_kwh=50.0)


def test_report_command_writes_its_files(tmp_path, monkeypatch, capsys, small):
    """``citymatch report fleet-day`` (the small day stands in for the default one) writes and prints each file."""
    from services.cli import main
    from simulator.fleet_day import report

    monkeypatch.setattr(report, "run", lambda p, progress=None: small)
    assert main(["report", "fleet-day", "--out", str(tmp_path), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert str(tmp_path / "headline.svg") in printed and "vehicles" in printed
    for name in ("headline.png", "headline.svg", "activity.png", "activity.svg", "energy.png", "energy.svg",
                 "metrics.csv", "blocks.csv", "summary.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["metrics"]["joint"]["vehicles"] == small.metrics["joint"]["vehicles"]
    rows = (tmp_path / "blocks.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + 48 * sum(p.vehicles for p in small.plans.values())
    assert np.isclose(summary["metrics"]["joint"]["pv_absorbed_kwh"],
                      small.plans["joint"].energy.pv_wh.sum() / 1000)


def test_report_command_refuses_a_bad_value(capsys):
    from services.cli import main

    assert main(["report", "fleet-day", "--rides", "-1", "--no-progress"]) == 2
    assert "rides and parcels must not be negative" in capsys.readouterr().err


def test_figures_fit_the_page_and_no_text_collides(small):
    import matplotlib.pyplot as plt

    from simulator.energy.report import figure_layout
    from simulator.figures import PAGE_WIDTH_PX
    from simulator.fleet_day.figures import activity_figure, energy_figure, headline_figure

    for make in (headline_figure, activity_figure, energy_figure):
        fig = make(small)
        found = figure_layout(fig)
        plt.close(fig)
        assert found["width_px"] <= PAGE_WIDTH_PX, make.__name__
        assert found["overlaps"] == [] and found["over_other_axes"] == [] and found["cut_off"] == [], \
            (make.__name__, found)
