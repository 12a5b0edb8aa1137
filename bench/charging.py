"""Benchmark of the charging planner: 1,000 EVs x 96 slots x 100 chargers on 4 sites around Ebina.

Measures the plan's solve time, its objective gap to the bound of the relaxation (any number of cars per
site and slot within the chargers' total power), unmet departures, and the share of charged energy that
came from local PV, for ours and, in the same run on the same fleet, for uncontrolled charging, earliest
deadline first, least laxity first and greedy cheapest-slot booking (``services/charging/domain/baselines.py``).

Also the set-point round trip over OCPP 1.6J: 100 simulated charge points on loopback; a plan change sends
each its new SetChargingProfile at once, and we time each from the send to the charge point's Accepted
arriving back (p50 / p99 over all rounds), beside a bare WebSocket ping round trip on the same loopback.

    .venv/bin/python -m bench.charging [--vehicles 1000] [--seed 7] [--repeat 1] [--charge-points 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from typing import Any

from bench.common import write_report
from services.charging import synthetic
from services.charging.adapters.ocpp_central import CentralSystem
from services.charging.domain.baselines import BASELINES, outcome_of
from services.charging.domain.planner import plan
from services.charging.domain.profiles import slot_profile


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


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _ocpp_round_trips(charge_points: int, rounds: int) -> dict[str, Any]:
    """The central system here; the charge points in their own process (as real chargers are elsewhere)."""
    from datetime import UTC, datetime, timedelta

    central = await CentralSystem().start()
    sims = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.charging.adapters.ocpp_charger_sim", "--central", central.url,
        "--count", str(charge_points))
    try:
        deadline = time.monotonic() + 120
        while len(central.links) < charge_points:
            if time.monotonic() > deadline or sims.returncode is not None:
                raise RuntimeError(f"only {len(central.links)} of {charge_points} charge points connected")
            await asyncio.sleep(0.05)
        ids = sorted(central.links)
        slot = datetime(2026, 12, 2, tzinfo=UTC)
        burst: list[float] = []
        single: list[float] = []
        statuses: dict[str, int] = {}

        async def one(charger: str, wh: int, into: list[float]) -> None:
            t0 = time.perf_counter()
            status = await central.send_profile(charger, 1, slot_profile(slot, wh))
            into.append((time.perf_counter() - t0) * 1000)
            statuses[status] = statuses.get(status, 0) + 1

        for r in range(rounds):       # a plan change: every charger gets its new set-point at once
            slot += timedelta(minutes=30)
            await asyncio.gather(*(one(c, 1000 + 10 * ((k + r) % 300), burst) for k, c in enumerate(ids)))
        for k, c in enumerate(ids):   # one charger's set-point changes on its own
            slot += timedelta(minutes=30)
            await one(c, 1000 + k, single)
        pings: list[float] = []
        for c in ids[:20]:
            for _ in range(5):
                t0 = time.perf_counter()
                await (await central.links[c]._connection.ping())
                pings.append((time.perf_counter() - t0) * 1000)
    finally:
        sims.terminate()
        await sims.wait()
        await central.stop()
    return {"charge_points": charge_points, "rounds": rounds, "statuses": statuses,
            "p50_ms": round(statistics.median(burst), 2), "p99_ms": round(_percentile(burst, 0.99), 2),
            "single_p50_ms": round(statistics.median(single), 2), "single_p99_ms": round(_percentile(single, 0.99), 2),
            "websocket_ping_p50_ms": round(statistics.median(pings), 3),
            "websocket_ping_p99_ms": round(_percentile(pings, 0.99), 3)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vehicles", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--charge-points", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    params, metrics = planner_case(args.vehicles, args.seed, args.repeat)
    metrics["ocpp_setpoint_round_trip"] = asyncio.run(_ocpp_round_trips(args.charge_points, args.rounds))
    share = metrics["renewable_share"]
    baseline = {"methods": "uncontrolled (full power on arrival, first come first served), edf, llf, greedy "
                           "cheapest-slot; same fleet, chargers and limits, one car per charger",
                "renewable_share": {k: v for k, v in share.items() if k != "ours"},
                "unmet_departures": {k: v for k, v in metrics["unmet_departures_by_method"].items() if k != "ours"},
                "ocpp": "bare WebSocket ping round trip on the same loopback connections"}
    ratio = {f"renewable_share_vs_{k}": round(share["ours"] / v, 3) if v else None
             for k, v in share.items() if k != "ours"}
    path = write_report("charging", params, metrics, baseline, ratio)
    print(f"plan {metrics['seconds']} s, gap {metrics['gap_to_bound']:.2e}, unmet {metrics['unmet_departures']}, "
          f"renewable share {share}")
    print(f"OCPP set-point round trip: {metrics['ocpp_setpoint_round_trip']}")
    print(f"report: {path}")
    return metrics


if __name__ == "__main__":
    main()
