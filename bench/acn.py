"""Our charging LP beside ACN-Sim's LLF and EDF on ACN-Data sessions, in ACN-Sim itself.

    .venv/bin/python -m bench.acn --sessions data/ev_sessions/acn_caltech_2019-03_events.json.gz \\
        --network caltech --caps 30,50,70

``--sessions`` takes an ACN-Sim events file (``*.json[.gz]``) or an ACN-Data CSV (``*.csv[.gz]``, one
month with ``--month YYYY-MM`` or the whole file). acnportal 0.3.3 needs pandas 2.2 and numpy 1.26, which
the project's own environment does not have, so the simulations run in the benchmark's own environment:
made once under ``.run/bench-acn-venv`` and reused (acnportal, pandas, numpy and the newest OR-Tools that
still runs on numpy 1.26). This process reads the sessions, starts ``bench.acn_sim`` there, shows its
progress and writes ``reports/bench/acn.json``:

    metrics.delivered_share = {"30": {"ours": .., "llf": .., "edf": ..}, ...}  (share of requested energy)
    metrics.peak_kw, metrics.offline_optimum_share, metrics.offline_bound_share, metrics.gap_to_optimum_points
    baseline = LLF and EDF per cap; ratio = ours / LLF per cap
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.acn_sessions import load
from bench.common import write_report

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".run" / "bench-acn-venv"
# OR-Tools 9.15 (the project's pin) needs numpy >= 2; 9.14 is the newest release that runs on numpy 1.26.
BENCH_REQUIREMENTS = ("acnportal==0.3.3", "pandas==2.2.*", "numpy==1.26.*", "ortools==9.14.6206", "scipy==1.17.*",
                      "setuptools<80")  # acnportal imports pkg_resources
METHODS = ("ours", "llf", "edf")


def bench_python() -> Path:
    """The benchmark environment's interpreter, made on first use with the project's uv."""
    python = VENV / "bin" / "python"
    marker = VENV / "requirements.txt"
    wanted = "\n".join(BENCH_REQUIREMENTS) + "\n"
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    uv = ROOT / ".venv" / "bin" / "uv"
    print(f"making the benchmark environment in {VENV.relative_to(ROOT)} ...", flush=True)
    if not python.exists():
        subprocess.run([str(uv), "venv", "-q", "-p", "3.11", str(VENV)], check=True)
    subprocess.run([str(uv), "pip", "install", "-q", "--python", str(python), *BENCH_REQUIREMENTS], check=True)
    marker.write_text(wanted)
    return python


def summarise(raw: dict[str, Any], methods: list[str]) -> tuple[dict[str, Any], dict[str, Any], dict[str, float]]:
    """metrics, baseline and ratio for the report from the simulation process's results."""
    runs, optimum = raw["runs"], raw.get("optimum", {})
    metrics: dict[str, Any] = {
        "delivered_share": {cap: {m: round(r[m]["delivered_share"], 5) for m in methods} for cap, r in runs.items()},
        "peak_kw": {cap: {m: round(r[m]["peak_kw"], 2) for m in methods} for cap, r in runs.items()},
        "energy_cost_usd": {cap: {m: round(r[m]["energy_cost_usd"], 1) for m in methods} for cap, r in runs.items()},
        "infeasible_periods": {cap: {m: r[m]["infeasible_periods"] for m in methods} for cap, r in runs.items()},
        "seconds": {cap: {m: r[m]["seconds"] for m in methods} for cap, r in runs.items()},
        "scheduler_calls": {cap: {m: r[m]["scheduler_calls"] for m in methods} for cap, r in runs.items()},
        "requested_kwh": round(next(iter(next(iter(runs.values())).values()))["requested_kwh"], 2) if runs else 0.0,
        "sessions": raw["sessions"],
        "placement": raw["placement"],
    }
    if optimum:
        metrics["offline_optimum_share"] = {cap: round(o["delivered_share"], 5) for cap, o in optimum.items()}
        metrics["offline_bound_share"] = {cap: round(o["bound_share"], 5) for cap, o in optimum.items()}
        metrics["offline_peak_kw"] = {cap: round(o["peak_kw"], 2) for cap, o in optimum.items()}
        if "ours" in methods:
            metrics["gap_to_optimum_points"] = {
                cap: round(100 * (o["bound_share"] - runs[cap]["ours"]["delivered_share"]), 3)
                for cap, o in optimum.items()}
    baseline = {m: {cap: round(r[m]["delivered_share"], 5) for cap, r in runs.items()} for m in methods if m != "ours"}
    ratio = {}
    if "ours" in methods and "llf" in methods:
        ratio = {cap: round(r["ours"]["delivered_share"] / r["llf"]["delivered_share"], 5) for cap, r in runs.items()
                 if r["llf"]["delivered_share"] > 0}
    return metrics, baseline, ratio


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=Path, required=True, help="ACN-Sim events file or ACN-Data CSV")
    parser.add_argument("--network", choices=("caltech", "jpl"), default="caltech")
    parser.add_argument("--caps", default="30,50,70", help="transformer caps in kW, comma-separated")
    parser.add_argument("--methods", default=",".join(METHODS), help="any of ours, llf, edf")
    parser.add_argument("--month", help="CSV only: the month (YYYY-MM) to simulate; default the whole file")
    parser.add_argument("--start", help="events file only: the simulation's first day, if its name has none")
    parser.add_argument("--demand", choices=("delivered", "requested"), default="delivered",
                        help="CSV only: the energy a car asks for (ACN-Sim uses what the session took)")
    parser.add_argument("--stations", choices=("map", "drop"), default="map",
                        help="sessions on stations the network lacks (or occupied): move to a free one, or drop")
    parser.add_argument("--recompute", type=int, default=3, help="our plan's periods between re-plans without events")
    parser.add_argument("--no-optimum", action="store_true", help="skip the offline optimum")
    args = parser.parse_args(argv)
    caps = [float(c) for c in args.caps.split(",") if c.strip()]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = [m for m in methods if m not in METHODS]
    if bad or not caps or any(c <= 0 for c in caps):
        parser.error(f"--methods must be among {METHODS} and --caps positive numbers (got {bad or args.caps})")
    start, sessions = load(args.sessions, month=args.month, demand=args.demand, start=args.start)
    work = ROOT / ".run" / "bench-acn" / str(os.getpid())  # one folder per run: two runs never share files
    work.mkdir(parents=True, exist_ok=True)
    job = {"start": start.isoformat(), "network": args.network, "caps": caps, "methods": methods,
           "stations": args.stations, "recompute": args.recompute, "optimum": not args.no_optimum,
           "sessions": sessions}
    (work / "job.json").write_text(json.dumps(job))
    python = bench_python()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    print(f"{len(sessions)} sessions from {args.sessions.name}, start {start.isoformat()}", flush=True)
    subprocess.run([str(python), "-m", "bench.acn_sim", "--input", str(work / "job.json"),
                    "--output", str(work / "result.json")], cwd=ROOT, env=env, check=True)
    raw = json.loads((work / "result.json").read_text())
    metrics, baseline, ratio = summarise(raw, methods)
    params = {"sessions_file": args.sessions.name, "network": args.network, "caps_kw": caps, "methods": methods,
              "month": args.month, "demand": args.demand, "stations": args.stations, "recompute": args.recompute,
              "period_min": 5, "voltage": 208, "evse": "basic (continuous 0-32 A)", "battery": "ideal",
              "acnportal": "0.3.3", "load_average_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}
    path = write_report("acn", params, metrics, baseline, ratio)
    print(f"wrote {path.relative_to(ROOT)}", flush=True)
    return path


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
