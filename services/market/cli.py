"""Planner's command line for the market: run a community's day, or check a community file.

    .venv/bin/python -m services.market.cli day higashi_fuji 2026-05-12 --weather 0.8
    .venv/bin/python -m services.market.cli check path/to/community.yaml
    .venv/bin/python -m services.market.cli storage ebina 2026-05-20 station-battery --weather 0.8
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from services.market.adapters.community_yaml import CommunityError, load_community
from services.market.simulate import simulate_day


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.market.cli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    day = sub.add_parser("day", help="simulate the 48 slots of one local day and print a JSON summary")
    day.add_argument("community", help="a shipped community (ebina, higashi_fuji) or a YAML path")
    day.add_argument("date", type=date.fromisoformat, help="local day, e.g. 2026-05-12")
    day.add_argument("--weather", type=float, default=1.0, help="share of clear-sky PV, 0..1 (default 1)")
    check = sub.add_parser("check", help="validate a community file and list its members")
    check.add_argument("community")
    storage = sub.add_parser("storage", help="one member's storage over a day, by its table and planning (JSON)")
    storage.add_argument("community")
    storage.add_argument("date", type=date.fromisoformat)
    storage.add_argument("participant", help="a member with a battery or a car, e.g. station-battery")
    storage.add_argument("--weather", type=float, default=1.0, help="share of clear-sky PV, 0..1 (default 1)")
    args = parser.parse_args(argv)
    try:
        community = load_community(args.community)
    except CommunityError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.command == "check":
        kinds: dict[str, int] = {}
        for m in community.members:
            kinds[m.kind] = kinds.get(m.kind, 0) + 1
        print(json.dumps({"name": community.name, "members": len(community.members), "kinds": kinds,
                          "sites": list(community.sites)}, indent=2))
        return 0
    if args.command == "storage":
        from services.market.storage_day import storage_day, with_planning

        print(json.dumps({name: storage_day(with_planning(community, args.participant, plans), args.participant,
                                            args.date, args.weather)
                          for name, plans in (("table", False), ("planned", True))}, indent=2))
        return 0
    print(json.dumps(simulate_day(community, args.date, args.weather).summary(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
