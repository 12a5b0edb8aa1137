"""``citymatch campaigns reconcile``: the campaign service's budget spent against the ledger's campaign accounts.

One side is what the campaign service believes per campaign (its topics re-read through its own handlers:
funded with the guard, rewards paid per offer, committed); the other is the ledger's ``campaign:<id>``
accounts (funding, rewards per offer, balance; the database opened read-only). Every difference is named
per campaign. Exit status 0: they agree; 1: they differ; 2: bad usage; 3: no ledger or no broker to read.

This module is a composition root (it names both services); the comparison itself is the campaign
service's domain (``services.incentives.domain.reconcile``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from services.incentives.domain.reconcile import CampaignBooks, CampaignReconcile, LedgerAccount, reconcile_campaigns

EXIT_DIFFER, EXIT_USAGE, EXIT_UNAVAILABLE = 1, 2, 3


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def reconcile_with(books: Mapping[str, CampaignBooks], ledger: object, window: timedelta | None = None,
                   today: date | None = None) -> CampaignReconcile:
    """``ledger``: anything with ``campaign_accounts()`` (the read model, the in-memory ledger)."""
    rows = [a.to_json() for a in ledger.campaign_accounts()]  # type: ignore[attr-defined]
    since = None if window is None else ((today or datetime.now(UTC).date()) - window).isoformat()
    return reconcile_campaigns(books, [LedgerAccount.from_json(r) for r in rows], since_day=since,
                               funded_days={r["campaign_id"]: r["days"] for r in rows})


def campaign_check(database_url: str, bootstrap: str, days: int = 2) -> CampaignReconcile:
    """Both sides read now: the topics first, then the ledger (a reward in flight shows as missing there)."""
    from services.incentives.adapters.books import books_from_kafka
    from services.settlement.read_model import open_read_model

    window = timedelta(days=days)
    books = books_from_kafka(bootstrap, window)
    ledger = open_read_model(database_url)
    try:
        return reconcile_with(books, ledger, window)
    finally:
        ledger.close()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="citymatch campaigns", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("reconcile", help="campaign books against the ledger's campaign accounts")
    rec.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                     help="the ledger (default: $DATABASE_URL)")
    rec.add_argument("--kafka", dest="bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP"),
                     help="the broker holding the incentives topics (default: $KAFKA_BOOTSTRAP)")
    rec.add_argument("--days", type=int, default=2,
                     help="how far back the campaign service's log is read (it replays two days at start-up)")
    rec.add_argument("--json", action="store_true", help="machine-readable output")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if not args.database_url or not args.bootstrap:
        _err("citymatch campaigns reconcile: pass --database-url and --kafka (or set DATABASE_URL and "
              "KAFKA_BOOTSTRAP)")
        return EXIT_USAGE
    if args.days < 1:
        _err("citymatch campaigns reconcile: --days must be at least 1")
        return EXIT_USAGE
    from services.settlement.ports import LedgerUnavailable

    try:
        report = campaign_check(args.database_url, args.bootstrap, args.days)
    except LedgerUnavailable as exc:
        _err(f"citymatch campaigns reconcile: {exc}")
        return EXIT_UNAVAILABLE
    except Exception as exc:  # a broker that does not answer: one line, not a traceback
        if type(exc).__module__.startswith("kafka") or isinstance(exc, TimeoutError):
            _err(f"citymatch campaigns reconcile: broker {args.bootstrap} not readable: {exc}")
            return EXIT_UNAVAILABLE
        raise
    if args.json:
        _out(json.dumps(report.to_json()))
    else:
        _out("\n".join(report.lines()))
    return 0 if report.ok else EXIT_DIFFER


if __name__ == "__main__":
    raise SystemExit(main())
