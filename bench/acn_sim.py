"""ACN-Sim runs of our scheduler beside acnportal's LLF and EDF, and the offline optimum (needs acnportal).

Runs inside the benchmark's own environment (``bench/acn.py`` starts it): reads the plain sessions the
outer process wrote, places them on the network, simulates each method at each transformer cap, checks
every applied pilot against the network's exact constraints, and writes the results as JSON.

The setup is ACN-Sim's algorithm comparison: 5-minute periods, 208 V, continuous EVSEs up to 32 A
(``basic_evse=True``), ideal batteries, SCE's TOU EV-4 tariff for the cost. On the JPL network the cap is
the 3rd/4th-floor transformer's; the 1st floor keeps its 45 kW (or the cap, if smaller).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from acnportal import acnsim, algorithms
from acnportal.acnsim import analysis
from acnportal.signals.tariffs import TimeOfUseTariff

from bench.acn_mpc import LinearMPC
from bench.acn_sessions import PERIOD_MIN, place
from services.charging.domain.three_phase_lp import PhaseNetwork, Sessions, plan_rates

VOLTAGE = 208
TARIFF = "sce_tou_ev_4_march_2019"


def build_network(name: str, cap_kw: float):
    if name == "caltech":
        return acnsim.sites.caltech_acn(basic_evse=True, voltage=VOLTAGE, transformer_cap=cap_kw)
    if name == "jpl":
        return acnsim.sites.jpl_acn(basic_evse=True, voltage=VOLTAGE, first_transformer_cap=min(45.0, cap_kw),
                                    third_fourth_transformer_cap=cap_kw)
    raise ValueError(f"network must be caltech or jpl, not {name!r}")


def build_events(sessions: list[dict[str, Any]]):
    events = []
    for s in sessions:
        battery = acnsim.Battery(s["capacity_kwh"], s["init_kwh"], s["max_kw"])
        ev = acnsim.EV(s["arrival"], s["departure"], s["requested_kwh"], s["station_id"], s["session_id"], battery,
                       estimated_departure=s["estimated_departure"])
        events.append(acnsim.PluginEvent(s["arrival"], ev))
    return acnsim.EventQueue(events)


def make_algorithm(method: str, sessions: list[dict[str, Any]], recompute: int):
    if method == "ours":
        return LinearMPC({s["session_id"]: s["max_kw"] for s in sessions}, recompute=recompute)
    if method == "llf":
        return algorithms.SortedSchedulingAlgo(algorithms.least_laxity_first)
    if method == "edf":
        return algorithms.SortedSchedulingAlgo(algorithms.earliest_deadline_first)
    raise ValueError(f"method must be ours, llf or edf, not {method!r}")


def simulate(method: str, network_name: str, cap: float, sessions: list[dict[str, Any]], start: datetime,
             recompute: int) -> dict[str, Any]:
    network = build_network(network_name, cap)
    algorithm = make_algorithm(method, sessions, recompute)
    sim = acnsim.Simulator(network, algorithm, build_events(sessions), start, period=PERIOD_MIN,
                           signals={"tariff": TimeOfUseTariff(TARIFF)}, verbose=False)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sim.run()
    seconds = time.perf_counter() - t0
    invalid = sum(1 for w in caught if "Invalid schedule" in str(w.message))
    pilots = np.asarray(sim.pilot_signals, dtype=float)
    currents = np.abs(network.constraint_current(pilots))
    over = currents - network.magnitudes[:, None] - np.maximum(network.violation_tolerance,
                                                              network.magnitudes * network.relative_tolerance)[:, None]
    power = analysis.aggregate_power(sim)
    out = {
        "delivered_share": float(analysis.proportion_of_energy_delivered(sim)),
        "delivered_kwh": float(analysis.total_energy_delivered(sim)),
        "requested_kwh": float(analysis.total_energy_requested(sim)),
        "peak_kw": float(np.max(power)) if len(power) else 0.0,
        "energy_cost_usd": float(analysis.energy_cost(sim)),
        "demand_charge_usd": float(analysis.demand_charge(sim)),
        "seconds": round(seconds, 1),
        "scheduler_calls": len(algorithm.solve_stats),
        "infeasible_periods": int(np.sum(np.any(over > 0, axis=0))),
        "invalid_schedule_warnings": invalid,
        "max_constraint_use": float(np.max(currents / network.magnitudes[:, None])) if pilots.size else 0.0,
    }
    if method == "ours":
        out["lp_rows_mean"] = round(algorithm.lp_rows / max(algorithm.plans, 1), 1)
    return out


def offline_optimum(network_name: str, cap: float, sessions: list[dict[str, Any]]) -> dict[str, Any]:
    """The month as one LP with perfect information (split where no car is plugged in), one-period steps.

    Same demands, rate limits and exact three-phase constraints as the simulation; ``delivered_share`` is a
    schedule that meets them exactly, ``bound_share`` the relaxation's upper bound on any schedule.
    """
    network = build_network(network_name, cap)
    phase = PhaseNetwork(np.asarray(network.constraint_matrix, dtype=float),
                         np.asarray(network.magnitudes, dtype=float), np.asarray(network._phase_angles, dtype=float))
    index = {sid: i for i, sid in enumerate(network.station_ids)}
    per_kwh = 1000 / VOLTAGE * 60 / PERIOD_MIN  # A x periods in one kWh
    max_pilot = np.asarray(network.max_pilot_signals, dtype=float)
    t0 = time.perf_counter()
    delivered = bound = requested = 0.0
    peak_a = 0.0
    for group in _components(sessions):
        s0 = min(s["arrival"] for s in group)
        horizon = max(s["departure"] for s in group) - s0
        charger = np.array([index[s["station_id"]] for s in group])
        demand = np.array([max(min(s["requested_kwh"], s["capacity_kwh"] - s["init_kwh"]), 0.0) for s in group])
        rate = np.minimum(max_pilot[charger], np.array([s["max_kw"] for s in group]) * 1000 / VOLTAGE)
        lp = Sessions(charger, np.array([s["arrival"] - s0 for s in group]),
                      np.array([s["departure"] - s0 for s in group]), demand * per_kwh, rate)
        plan = plan_rates(phase, lp, np.ones(horizon, dtype=int), earlier_bonus=0.0, max_rounds=30,
                          tolerance=2e-4, step_deg=2.0)
        delivered += plan.delivered / per_kwh
        bound += plan.bound / per_kwh
        peak_a = max(peak_a, float(plan.rates.sum(axis=0).max(initial=0.0)))
        requested += sum(s["requested_kwh"] for s in group)
    return {"delivered_share": delivered / requested, "bound_share": bound / requested, "delivered_kwh": delivered,
            "peak_kw": peak_a * VOLTAGE / 1000, "seconds": round(time.perf_counter() - t0, 1)}


def _components(sessions: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Groups of sessions whose stays chain together in time (no car links one group to the next)."""
    groups: list[list[dict[str, Any]]] = []
    end = -1
    for s in sorted(sessions, key=lambda s: s["arrival"]):
        if s["arrival"] >= end:
            groups.append([])
        groups[-1].append(s)
        end = max(end, s["departure"])
    return groups


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", type=Path, required=True, help="plain sessions JSON written by bench/acn.py")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    job = json.loads(args.input.read_text())
    start = datetime.fromisoformat(job["start"])
    network_name, caps, methods = job["network"], job["caps"], job["methods"]
    station_ids = build_network(network_name, max(caps)).station_ids
    sessions, counts = place(job["sessions"], station_ids, job["stations"])
    print(f"{len(sessions)} sessions on {network_name} ({dict(counts)}), "
          f"{sum(s['requested_kwh'] for s in sessions):.1f} kWh requested", flush=True)
    results: dict[str, Any] = {"placement": dict(counts), "sessions": len(sessions), "runs": {}, "optimum": {}}
    t_all = time.perf_counter()
    for cap in caps:
        key = f"{cap:g}"
        results["runs"][key] = {}
        for method in methods:
            r = simulate(method, network_name, cap, sessions, start, job["recompute"])
            results["runs"][key][method] = r
            print(f"cap {key:>4} kW  {method:<7} delivered {100 * r['delivered_share']:6.2f} %"
                  f"  peak {r['peak_kw']:5.1f} kW  infeasible periods {r['infeasible_periods']}  {r['seconds']:6.1f} s"
                  f"  (elapsed {time.perf_counter() - t_all:5.0f} s)", flush=True)
        if job["optimum"]:
            o = offline_optimum(network_name, cap, sessions)
            results["optimum"][key] = o
            print(f"cap {key:>4} kW  optimum delivered {100 * o['delivered_share']:6.2f} %  bound "
                  f"{100 * o['bound_share']:6.2f} %  {o['seconds']:6.1f} s"
                  f"  (elapsed {time.perf_counter() - t_all:5.0f} s)", flush=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
