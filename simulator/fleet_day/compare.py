"""The fleet day planned jointly against each domain planned on its own, on the same demand, duties,
solvers and prices; the figures both are judged by.

- ``sequential``: rides get their own fleet (the fewest vehicles CP-SAT finds for the ride duties), parcels
  theirs (the same for the parcel duties), and charging comes last on its own: every vehicle charges on
  plug-in at full power (the charging core's uncontrolled baseline: the grid at whatever time).
- ``sequential_smart``: the same two fleets, their charging planned by the charging service's planner.
- ``joint``: one CP-SAT assignment of all duties to one fleet, blocks of charging at PV surplus included,
  started from the two fleets side by side; charging planned by the same charging planner.

Pure: the day (with its network, PV and prices) comes in; :func:`compare_day` returns every number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simulator.fleet_day.assign import Assignment, assign
from simulator.fleet_day.demand import Day
from simulator.fleet_day.duties import PARCEL, RIDE, DomainPlan, Duty, plan_parcels, plan_rides
from simulator.fleet_day.energy import Energy, plan_energy
from simulator.fleet_day.params import FleetDayParams

PLANS = {"sequential": ("each domain alone, charging on plug-in", "個別計画・到着時充電"),
         "sequential_smart": ("each domain alone, charging planned", "個別計画・充電最適化"),
         "joint": ("joint plan", "統合計画")}
STEPS = ("rides: dial-a-ride", "parcels: VRPTW rounds", "rides' own fleet", "parcels' own fleet", "joint fleet",
         "charging plans")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PlanResult:
    key: str
    duties: tuple[Duty, ...]
    vehicle_of: tuple[int, ...]
    vehicles: int
    vehicles_rides: int       # vehicles that drive at least one ride duty
    vehicles_parcels: int
    energy: Energy
    assignment_status: str

    def metrics(self, day: Day, rides: DomainPlan, parcels: DomainPlan, p: FleetDayParams) -> dict[str, float]:
        e = self.energy
        grid = e.charge_wh - e.pv_wh
        energy_cost = float((grid * day.buy_sen[None, :]).sum() - (e.discharge_wh * day.sell_sen[None, :]).sum()) / 1e5
        pv_value = float((e.pv_wh * day.sell_sen[None, :]).sum()) / 1e5
        revenue = float(sum(d.revenue_yen for d in self.duties))
        vehicle_cost = float(self.vehicles * p.vehicle_yen_per_day)
        battery = p.battery_kwh * 1000
        # What the batteries hold at midnight beyond what they began with is worth at least the night's
        # buy-back price (it could be sold then): counted, so a plan that ends fuller is not penalised.
        stored_wh = float((e.soc_wh[:, -1] - e.soc_wh[:, 0]).sum())
        stored_value = stored_wh * float(day.sell_sen[0]) / 1e5
        return {
            "vehicles": float(self.vehicles), "vehicles_rides": float(self.vehicles_rides),
            "vehicles_parcels": float(self.vehicles_parcels),
            "vehicle_km": sum(d.metres for d in self.duties) / 1000,
            "riders_requested": float(rides.requested), "riders_served": float(rides.served),
            "parcels_requested": float(parcels.requested), "parcels_served": float(parcels.served),
            "pv_absorbed_kwh": float(e.pv_wh.sum()) / 1000, "pv_surplus_kwh": float(day.pv_surplus_wh.sum()) / 1000,
            "grid_kwh": float(grid.sum()) / 1000, "v2g_kwh": float(e.discharge_wh.sum()) / 1000,
            "driven_kwh": float(e.out_wh.sum()) / 1000,
            "energy_cost_yen": energy_cost, "pv_value_yen": pv_value, "vehicle_cost_yen": vehicle_cost,
            "stored_kwh": stored_wh / 1000, "stored_value_yen": stored_value,
            "revenue_yen": revenue, "margin_yen": revenue - vehicle_cost - energy_cost - pv_value + stored_value,
            "unmet_departures": float(e.unmet_departures), "soc_min_pct": 100 * float(e.soc_wh.min()) / battery,
            "soc_max_pct": 100 * float(e.soc_wh.max()) / battery,
        }


@dataclass(frozen=True)
class DayComparison:
    params: FleetDayParams
    day: Day
    rides: DomainPlan
    parcels: DomainPlan
    plans: dict[str, PlanResult]
    metrics: dict[str, dict[str, float]]
    assignments: dict[str, Assignment]


def _counts(duties: tuple[Duty, ...], vehicle_of: tuple[int, ...]) -> tuple[int, int]:
    rides = {v for d, v in zip(duties, vehicle_of, strict=True) if d.kind == RIDE}
    parcels = {v for d, v in zip(duties, vehicle_of, strict=True) if d.kind == PARCEL}
    return len(rides), len(parcels)


def _result(key: str, duties: tuple[Duty, ...], vehicle_of: tuple[int, ...], n: int, p: FleetDayParams, day: Day,
            smart: bool, status: str) -> PlanResult:
    energy = plan_energy(duties, vehicle_of, n, p, day, smart)
    return PlanResult(key, duties, vehicle_of, n, *_counts(duties, vehicle_of), energy, status)


def compare_day(day: Day, p: FleetDayParams, progress: Progress | None = None) -> DayComparison:
    """Both ways of planning the day (see the module docstring)."""
    tick = progress or (lambda _step: None)
    rides = plan_rides(day, p)
    tick(STEPS[0])
    parcels = plan_parcels(day, p)
    tick(STEPS[1])
    prices = (day.pv_surplus_wh, day.buy_sen, day.sell_sen)
    own_rides = assign(rides.duties, p, *prices)
    tick(STEPS[2])
    own_parcels = assign(parcels.duties, p, *prices)
    tick(STEPS[3])
    duties = rides.duties + parcels.duties
    union = own_rides.vehicle_of + tuple(v + own_rides.vehicles for v in own_parcels.vehicle_of)
    n_seq = own_rides.vehicles + own_parcels.vehicles
    joint = assign(duties, p, *prices, hint=union, max_vehicles=n_seq)
    tick(STEPS[4])
    seq_status = f"rides {own_rides.status}, parcels {own_parcels.status}"
    plans = {
        "sequential": _result("sequential", duties, union, n_seq, p, day, False, seq_status),
        "sequential_smart": _result("sequential_smart", duties, union, n_seq, p, day, True, seq_status),
        "joint": _result("joint", duties, joint.vehicle_of, joint.vehicles, p, day, True, joint.status),
    }
    tick(STEPS[5])
    metrics = {k: r.metrics(day, rides, parcels, p) for k, r in plans.items()}
    return DayComparison(p, day, rides, parcels, plans, metrics,
                         {"rides": own_rides, "parcels": own_parcels, "joint": joint})


def gain(metrics: dict[str, dict[str, float]], key: str, base: str = "sequential") -> float:
    """joint minus ``base`` for one figure."""
    return metrics["joint"][key] - metrics[base][key]


def block_activity(result: PlanResult) -> np.ndarray:
    """(vehicles, 48) codes: 0 idle at the depot, 1 rides, 2 parcels, 3 charging from PV, 4 from the grid,
    5 feeding back."""
    e = result.energy
    code = e.busy.copy()
    at = code == 0
    code[at & (e.charge_wh > 0)] = 4
    code[at & (e.pv_wh * 2 >= e.charge_wh) & (e.charge_wh > 0)] = 3
    code[at & (e.discharge_wh > 0)] = 5
    return code
