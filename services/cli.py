"""The ``citymatch`` command: one entry point that hands each sub-command to the module that owns it."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

USAGE = """citymatch <command> [options]

commands:
  demo [--serve]       run a small Ebina scenario on the embedded default (no Kafka, no PostgreSQL);
                       --serve: the whole platform live in one process, app and dashboard on :8000
  serve <service>      run market | settlement (Faust workers on Kafka) or gateway (HTTP)
  sim run|compare      AI-city simulator for planners (citymatch sim --help)
  report higashi-fuji|archetypes|fleet-day|co-owned
                       energy community month: P2P vs grid only beside the seed; the three platform archetypes;
                       one EV fleet for rides, parcels and PV charging, planned jointly vs each domain alone;
                       a co-owned EV group's month: use, energy and bill per member (report co-owned --help)
  data fetch-osm|...   street network data (citymatch data --help)
  ledger verify|...    check and report on the settlement ledger (citymatch ledger --help)
  campaigns reconcile  incentive campaigns' budget spent against their ledger accounts (citymatch campaigns --help)
  token --participant P [--role app-user|device|operator] [--ttl 24h]
                       issue a bearer token that expires (uses CITYMATCH_TOKEN_SECRET)
  accounts create|list|disable
                       operator, planner, device and app-user accounts (citymatch accounts --help)
  topics [--create B]  list the Kafka topic catalogue (or create its topics on broker B)
"""


def _duration(text: str) -> timedelta:
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise ValueError(f"--ttl must look like 30m, 12h or 7d, not {text!r}")
    return timedelta(**{units[text[-1]]: int(text[:-1])})


def _token(argv: list[str]) -> int:
    """Issue a token; a refused name or lifetime is one line on stderr and exit code 2."""
    from shared.auth import DEFAULT_TTL, ROLES, issue_token
    from shared.errors import ConfigError
    from shared.settings import Settings

    parser = argparse.ArgumentParser(prog="citymatch token")
    parser.add_argument("--participant", required=True, help="the participant (or operator) the token names")
    parser.add_argument("--role", default="app-user", choices=ROLES)
    parser.add_argument("--ttl", default=f"{int(DEFAULT_TTL.total_seconds() // 3600)}h",
                        help="lifetime: 30m, 12h, 7d (at most 90d)")
    args = parser.parse_args(argv)
    try:
        token = issue_token(Settings.from_env().token_secret, args.participant, role=args.role,
                            ttl=_duration(args.ttl))
    except (ValueError, ConfigError) as exc:
        print(f"citymatch token: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


def _topics(argv: list[str]) -> int:
    from shared.contracts.catalogue import CATALOGUE

    parser = argparse.ArgumentParser(prog="citymatch topics")
    parser.add_argument("--create", metavar="BOOTSTRAP", help="create the missing topics on this Kafka cluster")
    args = parser.parse_args(argv)
    if args.create:
        from shared.bus.provision import ensure_topics

        created = ensure_topics(args.create)
        print(f"created {len(created)} topics" + (f": {', '.join(created)}" if created else ""))
        return 0

    print(f"{'topic':<24} {'key':<12} {'partitions':>10}  {'retention':<14} {'dead-letter':<28} payloads")
    for t in CATALOGUE.values():
        retention = "compacted" if t.compacted else ("forever" if t.retention_ms is None
                                                     else f"{t.retention_ms // 86_400_000} days")
        carried = ", ".join(f"{cls.event_type} v{cls.schema_version}" for cls in t.payloads)
        print(f"{t.name:<24} {t.key:<12} {t.partitions:>10}  {retention:<14} {t.dlq:<28} {carried}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "demo":
        from services.demo import main as demo_main

        return demo_main(rest)
    if command == "serve":
        from services.__main__ import main as serve_main

        return serve_main(rest)
    if command == "sim":
        from simulator.cli import sim_main

        return sim_main(rest)
    if command == "report" and rest[:1] == ["co-owned"]:
        from simulator.coowned.cli import main as coowned_main

        return coowned_main(rest[1:])
    if command == "report" and rest[:1] == ["fleet-day"]:
        from simulator.fleet_day.cli import fleet_day_main

        return fleet_day_main(rest[1:])
    if command == "report":
        from simulator.energy.cli import report_main

        return report_main(rest)
    if command == "data":
        from simulator.cli import data_main

        return data_main(rest)
    if command == "ledger":
        from services.settlement.cli import main as ledger_main

        return ledger_main(rest)
    if command == "campaigns":
        from services.campaign_audit import main as campaigns_main

        return campaigns_main(rest)
    if command == "token":
        return _token(rest)
    if command == "accounts":
        from services.gateway.accounts.cli import main as accounts_main
        from services.gateway.bootstrap import open_accounts
        from shared.settings import Settings

        return accounts_main(rest, lambda: open_accounts(Settings.from_env()))
    if command == "topics":
        return _topics(rest)
    print(f"citymatch: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
