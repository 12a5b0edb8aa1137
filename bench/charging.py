"""Benchmark of the charging planner: 1,000 EVs x 96 slots x 100 chargers on 4 sites around Ebina.

Measures the plan's solve time, its objective gap to the bound of the relaxation (any number of cars per
site and slot within the chargers' total power), unmet departures, and the share of charged energy that
came from local PV, for ours and, in the same run on the same fleet, for uncontrolled charging, earliest
deadline first, least laxity first and greedy cheapest-slot booking (``services/charging/domain/baselines.py``).

    .venv/bin/python -m bench.charging [--vehicles 1000] [--seed 7] [--repeat 1] [--ocpp 100]
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from bench.common import write_report
from services.charging import synthetic
from services.charging.domain.baselines import BASELINES, outcome_of
from services.charging.domain.planner import plan


def planner_case(vehicles: int, seed: int, repeat: int) -> tuple[dict[str, Any], dict[str, Any]]:
    scenario = synthetic.Scenario(vehicles=vehicles, seed=seed)
    fleet = synthetic.build(scenario)
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = plan(fleet)
        best = min(best, time.perf_counter() - t0)
    assert result is not None
    broken = result.problems()
    ours = outcome_of(result)
    outcomes = {"ours": ours}
    baseline_seconds = {}
    for name, policy in BASELINES.items():
        t0 = time.perf_counter()
        outcomes[name] = policy(fleet)
        baseline_seconds[name] = round(time.perf_counter() - t0, 3)
    metrics = {
        "seconds": round(best, 3),
        "gap_to_bound": result.gap,
        "unmet_departures": result.unmet_departures(),
        "renewable_share": {k: round(o.renewable_share(), 4) for k, o in outcomes.items()},
        "renewable_kwh": {k: round(float(o.pv_used_wh.sum()) / 1000, 1) for k, o in outcomes.items()},
        "unmet_departures_by_method": {k: o.unmet_departures for k, o in outcomes.items()},
        "shortfall_kwh": {k: round(o.shortfall_wh / 1000, 3) for k, o in outcomes.items()},
        "charged_kwh": {k: round(float(o.site_load_wh.sum()) / 1000, 1) for k, o in outcomes.items()},
        "energy_cost_yen": {k: round(o.cost_yen(fleet), 0) for k, o in outcomes.items()},
        "peak_grid_kw": {k: round(o.peak_kw(), 1) for k, o in outcomes.items()},
        "rules_broken": broken,
        "cells": len(result.cells),
        "pv_available_kwh": round(sum(float(s.pv_wh.sum()) for s in fleet.sites) / 1000, 1),
        "baseline_seconds": baseline_seconds,
    }
    params = {"vehicles": vehicles, "slots": fleet.horizon, "chargers": sum(s.chargers for s in fleet.sites),
              "sites": [s.id for s in fleet.sites], "seed": seed, "repeat": repeat,
              "load_average_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}
    return params, metrics


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vehicles", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    params, metrics = planner_case(args.vehicles, args.seed, args.repeat)
    share = metrics["renewable_share"]
    baseline = {"methods": "uncontrolled (full power on arrival, first come first served), edf, llf, greedy "
                           "cheapest-slot; same fleet, chargers and limits, one car per charger",
                "renewable_share": {k: v for k, v in share.items() if k != "ours"},
                "unmet_departures": {k: v for k, v in metrics["unmet_departures_by_method"].items() if k != "ours"}}
    ratio = {f"renewable_share_vs_{k}": round(share["ours"] / v, 3) if v else None
             for k, v in share.items() if k != "ours"}
    path = write_report("charging", params, metrics, baseline, ratio)
    print(f"plan {metrics['seconds']} s, gap {metrics['gap_to_bound']:.2e}, unmet {metrics['unmet_departures']}, "
          f"renewable share {share}")
    print(f"report: {path}")
    return metrics


if __name__ == "__main__":
    main()
