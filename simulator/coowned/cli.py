"""``citymatch report co-owned``: a seeded co-owned EV group's month, the table per member, files and a plot."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="citymatch report co-owned",
                                     description="a co-owned EV group's month: use, energy and bill per member")
    parser.add_argument("--config", help="JSON file overriding fields of simulator/coowned/config.py GroupConfig")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--members", type=int, help="the first N members (3-5)")
    parser.add_argument("--month", type=int, help="month of 2026 (default 11)")
    parser.add_argument("--days", type=int, help="only the first N days of the month")
    parser.add_argument("--out", help="output folder (default reports/coowned)")
    parser.add_argument("--plot", action="store_true", help="also write bills.png")
    args = parser.parse_args(argv)
    from simulator.coowned.config import load_config
    from simulator.coowned.report import DEFAULT_OUT, build, table, write

    try:
        config = load_config(args.config, seed=args.seed, member_count=args.members, month=args.month,
                             days=args.days)
    except (ValueError, OSError, TypeError) as exc:
        print(f"citymatch report co-owned: {exc}", file=sys.stderr)
        return 2
    report = build(config)
    for line in table(report):
        print(line)
    for path in write(report, Path(args.out) if args.out else DEFAULT_OUT, plot=args.plot):
        print(f"wrote {path}")
    return 0 if report.verified else 1
