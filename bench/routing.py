"""Routing benchmark: Solomon VRPTW against best known and PyVRP, Cordeau-Laporte dial-a-ride at two time
limits, and streaming ride dispatch against a greedy nearest-vehicle dispatcher.

Every solution is checked by the solver-independent checkers (``services.logistics.domain.check``,
``services.mobility.domain.check``) and written as routes (CVRPLIB ``.sol`` style) to
``reports/bench/routing/<instance>.sol``. Any folder of instances in the two formats works; best-known
costs come from ``<instance>.sol`` files (Solomon) or a CSV with ``instance`` and ``best_known_cost``
columns (dial-a-ride) in the folder or its parent.

    .venv/bin/python -m bench.routing --solomon data/vrptw/solomon --darp data/darp/cordeau_laporte --seconds 10
    .venv/bin/python -m bench.routing --quick          # three instances each, short limits, small stream

PyVRP is a benchmark-only dependency (``make bench-routing`` installs it into the virtualenv, outside the
runtime lock); without it the PyVRP columns are left out and say so.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import REPORT_DIR, write_report
from services.logistics.adapters.solomon import SCALE as SOLOMON_SCALE
from services.logistics.adapters.solomon import read_sol, read_solomon
from services.logistics.domain import anomalies, vrptw
from services.logistics.domain.check import check_routes
from services.mobility.adapters.cordeau import read_cordeau
from services.mobility.domain import darp
from services.mobility.domain import synthetic as syn
from services.mobility.domain.check import check_plan
from services.mobility.domain.dispatcher import Dispatcher
from services.mobility.domain.reopt import reoptimise

REPO = Path(__file__).resolve().parent.parent
SOL_DIR = REPORT_DIR / "routing"


def write_sol(name: str, routes: list[tuple[int, ...]] | tuple[tuple[int, ...], ...], cost: float) -> Path:
    SOL_DIR.mkdir(parents=True, exist_ok=True)
    lines = [f"Route #{k}: {' '.join(map(str, r))}" for k, r in enumerate((r for r in routes if r), start=1)]
    path = SOL_DIR / f"{name}.sol"
    path.write_text("\n".join([*lines, f"Cost {cost:.2f}" if cost % 1 else f"Cost {cost:.1f}"]) + "\n")
    return path


def pyvrp_solve(problem: vrptw.VrptwProblem, seconds: float, seed: int) -> list[tuple[int, ...]] | None:
    """PyVRP's hybrid genetic search on exactly the same integer data (None if PyVRP is not installed)."""
    try:
        import pyvrp
        from pyvrp.stop import MaxRuntime
    except ImportError:
        return None
    m = pyvrp.Model()
    n = len(problem.demand)
    locs = [m.add_location(x=0, y=0) for _ in range(n)]
    depot = m.add_depot(locs[0], tw_early=int(problem.ready[0]), tw_late=int(problem.due[0]))
    m.add_vehicle_type(num_available=problem.vehicles, capacity=int(problem.capacity), start_depot=depot,
                       end_depot=depot, tw_early=int(problem.ready[0]), tw_late=int(problem.due[0]))
    for c in range(1, n):
        m.add_client(locs[c], delivery=int(problem.demand[c]), service_duration=int(problem.service[c]),
                     tw_early=int(problem.ready[c]), tw_late=int(problem.due[c]))
    cost, travel = problem.cost_matrix, problem.travel
    for i in range(n):
        for j in range(n):
            if i != j:
                m.add_edge(locs[i], locs[j], distance=int(cost[i, j]), duration=int(travel[i, j]))
    result = m.solve(stop=MaxRuntime(seconds), seed=seed, display=False)
    # client activities carry their index among the clients (0-based): our node is that + 1
    return [tuple(a.idx + 1 for a in r if a.is_client()) for r in result.best.routes()]


def run_solomon(folder: Path, seconds: float, names: list[str] | None, seed: int) -> dict[str, Any]:
    rows = []
    for path in sorted(folder.glob("*.txt")):
        if names and path.stem not in names:
            continue
        problem = read_solomon(path)
        bks = read_sol(path.with_suffix(".sol"))[1] if path.with_suffix(".sol").exists() else None
        cpu0 = time.process_time()
        ours = vrptw.solve(problem, seconds)
        cpu_ours = time.process_time() - cpu0
        verdict = check_routes(problem, ours.routes)
        write_sol(path.stem, ours.routes, verdict.cost / SOLOMON_SCALE)
        row: dict[str, Any] = {"instance": path.stem, "feasible": verdict.feasible,
                               "cost": verdict.cost / SOLOMON_SCALE, "vehicles": verdict.vehicles_used,
                               "best_known": bks, "cpu_s": round(cpu_ours, 2),
                               "violations": list(verdict.violations[:3])}
        cpu0 = time.process_time()
        theirs = pyvrp_solve(problem, seconds, seed)
        row["pyvrp_cpu_s"] = round(time.process_time() - cpu0, 2)
        if theirs is not None:
            pv = check_routes(problem, theirs)
            write_sol(f"{path.stem}.pyvrp", theirs, pv.cost / SOLOMON_SCALE)
            row.update(pyvrp_feasible=pv.feasible, pyvrp_cost=pv.cost / SOLOMON_SCALE, pyvrp_vehicles=pv.vehicles_used)
        if bks:
            row["gap"] = row["cost"] / bks - 1 if verdict.feasible else None
            if theirs is not None:
                row["pyvrp_gap"] = row["pyvrp_cost"] / bks - 1 if row["pyvrp_feasible"] else None
        rows.append(row)
        print(f"solomon {path.stem}: {row}", flush=True)
    return {"rows": rows}


def darp_best_known(folder: Path) -> dict[str, float]:
    for where in (folder, folder.parent):
        for csv_path in where.glob("*.csv"):
            with csv_path.open() as fh:
                reader = csv.DictReader(fh)
                if reader.fieldnames and {"instance", "best_known_cost"} <= set(reader.fieldnames):
                    return {r["instance"]: float(r["best_known_cost"]) for r in reader}
    return {}


def run_darp(folder: Path, limits: list[float], names: list[str] | None) -> dict[str, Any]:
    bks, rows = darp_best_known(folder), []
    for path in sorted(folder.glob("*.txt")):
        if names and path.stem not in names:
            continue
        inst = read_cordeau(path)
        progress: list = []
        cpu0 = time.process_time()
        final = darp.solve(inst.problem, max(limits), progress=progress)
        row: dict[str, Any] = {"instance": inst.name, "best_known": bks.get(inst.name),
                               "cpu_s": round(time.process_time() - cpu0, 2)}
        for limit in limits:
            snapshot = [p for p in progress if p[0] <= limit]
            routes = snapshot[-1][2] if snapshot else ()
            if limit == max(limits):
                routes = final.routes
            verdict = check_plan(inst.problem, routes) if routes else None
            feasible = bool(verdict and verdict.feasible)
            cost = inst.exact_cost(routes) if feasible else None
            tag = f"{limit:g}s"
            row[f"feasible_{tag}"] = feasible
            row[f"cost_{tag}"] = cost
            if cost is not None and row["best_known"]:
                row[f"gap_{tag}"] = cost / row["best_known"] - 1
            if limit == max(limits) and routes:
                write_sol(inst.name, routes, cost if cost is not None else float("nan"))
        rows.append(row)
        print(f"darp {inst.name}: {row}", flush=True)
    return {"rows": rows}


def run_dispatch(n_requests: int, n_vehicles: int, seed: int, reopt_every: int, reopt_seconds: float
                 ) -> dict[str, Any]:
    """The same seeded stream through the insertion dispatcher (with re-optimisation) and the greedy one."""
    n_places = 600
    _, travel, dist = syn.city(n_places, seed, size_m=6000)
    reqs = syn.requests(n_requests, n_places, travel, seed + 1)
    out: dict[str, Any] = {}
    for name, greedy in (("greedy", True), ("insertion", False)):
        d = Dispatcher(syn.fleet(n_vehicles, n_places, seed + 2), travel, dist, greedy=greedy)
        latencies, accepted, next_reopt, reopts, adopted, reopt_s, broken = [], 0, 0, 0, 0, 0.0, 0
        for req in reqs:
            now = syn.made_at(req)
            if not greedy and now >= next_reopt:
                t0 = time.perf_counter()
                adopted += reoptimise(d, now, reopt_seconds).adopted
                reopt_s += time.perf_counter() - t0
                reopts += 1
                broken += len(d.promise_violations())
                next_reopt = now + reopt_every
            t0 = time.perf_counter()
            answer = d.decide(req, now)
            latencies.append(time.perf_counter() - t0)
            accepted += answer.accepted
        d.advance(10**9)
        broken += len(d.promise_violations())
        lat = np.array(latencies) * 1000
        out[name] = {"served_share": accepted / len(reqs), "p50_ms": float(np.percentile(lat, 50)),
                     "p99_ms": float(np.percentile(lat, 99)), "max_ms": float(lat.max()),
                     "reoptimisations": reopts, "reopt_adopted": adopted, "reopt_seconds_total": reopt_s,
                     "promises_broken": broken}
        print(f"dispatch {name}: {out[name]}", flush=True)
    return out


def run_anomalies(seed: int) -> dict[str, float]:
    """Day-level precision and recall of the shop-stream rules on a seeded month with injected anomalies."""
    records, truth = anomalies.synthetic_stream(seed)
    alerts = anomalies.detect(records)
    out = {}
    for kind, real in (("surge", truth.surges), ("stockout", truth.stockouts), ("waste", truth.waste)):
        out[f"anomaly_{kind}_precision"], out[f"anomaly_{kind}_recall"] = anomalies.precision_recall(
            alerts, kind, real, after_day=7)
    # Demand moving home from day 28: day-level precision, and the days from the move to its first alert.
    moved, moved_truth = anomalies.synthetic_stream(seed, shift_from=28)
    shifts = anomalies.detect_shift(moved)
    out["anomaly_shift_precision"], out["anomaly_shift_recall"] = anomalies.precision_recall(
        shifts, "shift", moved_truth.shift)
    out["anomaly_shift_days_to_alert"] = min((a.day for a in shifts if a.day >= 28), default=42) - 28
    out["anomaly_shift_false_alarms_quiet_month"] = len(anomalies.detect_shift(records))
    print(f"anomalies: {out}", flush=True)
    return out


def mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def summarise(solomon: dict | None, darp_result: dict | None, dispatch: dict | None, limits: list[float]
              ) -> tuple[dict, dict, dict]:
    metrics: dict[str, Any] = {}
    baseline: dict[str, Any] = {}
    ratio: dict[str, Any] = {}
    if solomon:
        rows = solomon["rows"]
        gaps = [r["gap"] for r in rows if r.get("gap") is not None]
        pgaps = [r["pyvrp_gap"] for r in rows if r.get("pyvrp_gap") is not None]
        metrics.update(solomon_instances=len(rows), solomon_all_feasible=all(r["feasible"] for r in rows),
                       solomon_avg_gap=mean(gaps), solomon_max_gap=max(gaps) if gaps else None,
                       solomon_avg_vehicles=mean([r["vehicles"] for r in rows]),
                       pyvrp_avg_gap=mean(pgaps), pyvrp_max_gap=max(pgaps) if pgaps else None,
                       pyvrp_avg_vehicles=mean([r["pyvrp_vehicles"] for r in rows if "pyvrp_vehicles" in r]),
                       solomon_avg_cpu_s=mean([r["cpu_s"] for r in rows]),
                       pyvrp_avg_cpu_s=mean([r["pyvrp_cpu_s"] for r in rows if "pyvrp_cpu_s" in r]))
        baseline["pyvrp_avg_gap"] = metrics["pyvrp_avg_gap"]
        if gaps and pgaps:
            ratio["solomon_gap_over_pyvrp_gap"] = metrics["solomon_avg_gap"] / max(metrics["pyvrp_avg_gap"], 1e-9)
    if darp_result:
        rows = darp_result["rows"]
        metrics["darp_instances"] = len(rows)
        for limit in limits:
            tag = f"{limit:g}s"
            metrics[f"darp_avg_gap_{tag}"] = mean([r[f"gap_{tag}"] for r in rows if r.get(f"gap_{tag}") is not None])
            metrics[f"darp_all_feasible_{tag}"] = all(r[f"feasible_{tag}"] for r in rows)
    if dispatch:
        ours, greedy = dispatch["insertion"], dispatch["greedy"]
        metrics.update(dispatch_p50_ms=ours["p50_ms"], dispatch_p99_ms=ours["p99_ms"],
                       served_share=ours["served_share"], promises_broken=ours["promises_broken"],
                       greedy_served_share=greedy["served_share"])
        baseline.update(greedy_served_share=greedy["served_share"], greedy_p99_ms=greedy["p99_ms"])
        ratio["served_over_greedy"] = ours["served_share"] / max(greedy["served_share"], 1e-9)
    return metrics, baseline, ratio


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--solomon", type=Path, help="folder of Solomon .txt files (with CVRPLIB .sol for best known)")
    ap.add_argument("--darp", type=Path, help="folder of Cordeau-Laporte dial-a-ride .txt files")
    ap.add_argument("--seconds", type=float, default=10.0,
                    help="time limit per VRPTW instance (and the short DARP one)")
    ap.add_argument("--darp-long", type=float, default=60.0, help="the longer DARP time limit")
    ap.add_argument("--only", default="", help="comma-separated instance names to run")
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--vehicles", type=int, default=200)
    ap.add_argument("--reopt-every", type=int, default=1800, help="simulated seconds between re-optimisations")
    ap.add_argument("--reopt-seconds", type=float, default=1.0)
    ap.add_argument("--no-dispatch", action="store_true")
    ap.add_argument("--quick", action="store_true", help="3 instances each at 2 s / 5 s, 1,000 requests, 40 vehicles")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    names = [x for x in args.only.split(",") if x] or None
    if args.quick:
        args.seconds, args.darp_long = 2.0, 5.0
        args.requests, args.vehicles = 1000, 40
        names = names or ["C101", "R101", "RC101", "a2-16", "a4-40", "a6-60"]
    if args.solomon is None and args.darp is None and (args.quick or not names):
        args.solomon, args.darp = REPO / "data/vrptw/solomon", REPO / "data/darp/cordeau_laporte"
    limits = [args.seconds, args.darp_long]
    solomon = run_solomon(args.solomon, args.seconds, names, args.seed) if args.solomon else None
    darp_result = run_darp(args.darp, limits, names) if args.darp else None
    dispatch = None if args.no_dispatch else run_dispatch(args.requests, args.vehicles, args.seed,
                                                           args.reopt_every, args.reopt_seconds)
    metrics, baseline, ratio = summarise(solomon, darp_result, dispatch, limits)
    metrics.update(run_anomalies(args.seed))
    params = {"seconds": args.seconds, "darp_seconds": limits, "requests": args.requests, "vehicles": args.vehicles,
              "reopt_every_s": args.reopt_every, "reopt_seconds": args.reopt_seconds, "seed": args.seed,
              "solomon": str(args.solomon) if args.solomon else None, "darp": str(args.darp) if args.darp else None,
              "only": names, "load_average_at_start": os.getloadavg()[0],
              "dispatch_city": "synthetic 6 km square, 600 places, 25 km/h, streets 1.3x straight line",
              "instances": {"solomon": solomon["rows"] if solomon else [],
                            "darp": darp_result["rows"] if darp_result else [], "dispatch": dispatch}}
    path = write_report("routing", params, metrics, baseline, ratio)
    print(f"wrote {path}")
    for k, v in metrics.items():
        print(f"  {k}: {v}")


if __name__ == "__main__":
    main()
