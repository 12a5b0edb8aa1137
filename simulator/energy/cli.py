"""``citymatch report higashi-fuji|archetypes``: parse the options, write the report, print the headline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPORTS = ("higashi-fuji", "archetypes")


def report_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="citymatch report",
                                     description="energy community reports (HTML with plots, plus CSV)")
    parser.add_argument("report", choices=REPORTS)
    parser.add_argument("--out", help="output folder (default reports/energy/<report>)")
    parser.add_argument("--params", help="JSON file overriding parameters (names as in simulator/energy/params.py)")
    parser.add_argument("--month", type=int, help="month of the standard year (default 5)")
    parser.add_argument("--days", type=int, help="simulate only N days")
    parser.add_argument("--first-day", type=int, help="first day of the month simulated (default 1)")
    parser.add_argument("--seed", type=int, help="seed of loads and trip times")
    args = parser.parse_args(argv)
    from simulator.energy.params import load_params
    from simulator.energy.report import DEFAULT_ROOT, write_archetypes, write_higashi_fuji

    overrides = {k: v for k, v in (("month", args.month), ("days", args.days), ("first_day", args.first_day),
                                                   ("seed", args.seed)) if v is not None}
    try:
        params = load_params(args.params, **overrides)
    except (ValueError, OSError, TypeError) as exc:
        print(f"citymatch report: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else DEFAULT_ROOT / args.report
    written = (write_higashi_fuji if args.report == "higashi-fuji" else write_archetypes)(out, params)
    for key, value in written.summary.items():
        print(f"{key:<28} {value}")
    print(f"report: {out / 'report.html'}")
    return 0
