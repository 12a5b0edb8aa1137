"""``citymatch report fleet-day``: parse the options, run with a progress bar, write the files, print them."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tqdm import tqdm


def fleet_day_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="citymatch report fleet-day",
                                     description="one EV fleet for rides, parcels and PV charging: joint vs alone")
    parser.add_argument("--out", help="output folder (default reports/fleet_day)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--rides", type=int)
    parser.add_argument("--parcels", type=int)
    parser.add_argument("--no-v2g", action="store_true", help="vehicles may not feed back")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    from simulator.fleet_day.compare import STEPS
    from simulator.fleet_day.params import FleetDayParams, with_overrides
    from simulator.fleet_day.report import DEFAULT_OUT, run, write

    changes: dict[str, object] = {k: v for k, v in (("seed", args.seed), ("rides", args.rides),
                                                    ("parcels", args.parcels)) if v is not None}
    if args.no_v2g:
        changes["v2g"] = False
    try:
        params = with_overrides(FleetDayParams(), **changes)
    except (ValueError, TypeError) as exc:
        print(f"citymatch report fleet-day: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    with tqdm(total=len(STEPS), desc="fleet day", unit="step", disable=args.no_progress, leave=False) as bar:
        def step(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update(1)

        comparison = run(params, progress=step)
    written = write(Path(args.out) if args.out else DEFAULT_OUT, comparison)
    m = comparison.metrics
    for key in ("vehicles", "vehicle_km", "riders_served", "parcels_served", "pv_absorbed_kwh", "grid_kwh",
                "v2g_kwh", "energy_cost_yen", "vehicle_cost_yen", "revenue_yen", "margin_yen"):
        print(f"{key:<18} " + "  ".join(f"{plan} {m[plan][key]:>10,.1f}" for plan in m))
    print(f"took {time.perf_counter() - started:.0f} s")
    for path in written.files:
        print(path)
    return 0
