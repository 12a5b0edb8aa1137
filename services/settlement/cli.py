"""``citymatch ledger ...``: verify, reconcile, export and read statements from a ledger database; make keys.

Exit status 0 means the ledger checks out (verify, reconcile) or the output was printed; 1 means the
ledger is broken; 2 means bad usage; 3 means there is no ledger to read (missing file, unreachable or
unmigrated database), said in one line. Every command but ``keygen`` only reads: the database is opened
read-only (``read_model.open_read_model``), nothing is migrated, registered or signed.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy.exc import SQLAlchemyError

from services.settlement.domain.signing import Signer, load_public_key, public_bytes
from services.settlement.domain.verify import PublishedAnchor, anchor_mismatches
from services.settlement.export import export_lines
from services.settlement.ports import LedgerReadModel, LedgerUnavailable
from services.settlement.read_model import describe, open_read_model
from shared.errors import ConfigError
from shared.settings import Settings

EXIT_BROKEN, EXIT_USAGE, EXIT_NO_LEDGER = 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="citymatch ledger", description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url",
                        help="postgresql+psycopg://user@host:port/db or sqlite:///path "
                             "(default: $CITYMATCH_DATABASE_URL or $DATABASE_URL)")
    common.add_argument("--json", action="store_true", help="machine-readable output")
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser("verify", parents=[common], help="recompute hashes, signatures, postings, anchors")
    verify.add_argument("--public-key", action="append", default=[],
                        help="trusted Ed25519 public key (hex); repeatable; default: the keys in the database")
    verify.add_argument("--tip-only", action="store_true",
                        help="check every entry but only each chain's last signature (proves the ledger as it "
                             "stands; much faster when every append signed one entry)")
    verify.add_argument("--anchors", type=Path,
                        help="JSON lines of anchors received from ledger.anchors (slot, merkle_root, entries) "
                             "to hold the ledger to")
    reconcile = sub.add_parser("reconcile", parents=[common],
                               help="postings balance, kWh conserved, money equals trades; and, with a broker, "
                                    "the ledger holds exactly the trades the market published")
    reconcile.add_argument("--market", metavar="KAFKA_BOOTSTRAP", dest="kafka_bootstrap",
                           help="also compare with the trades the market published on energy.trades on this broker "
                                "(names the slots and counts that differ); without it, the ledger is reconciled "
                                "with itself only")
    statement = sub.add_parser("statement", parents=[common], help="one participant's statement")
    statement.add_argument("--participant", required=True)
    statement.add_argument("--from", dest="start", type=datetime.fromisoformat, help="first slot (ISO time)")
    statement.add_argument("--to", dest="end", type=datetime.fromisoformat, help="end, exclusive (ISO time)")
    statement.add_argument("--html", type=Path, help="also write an HTML rendering to this file")
    sub.add_parser("totals", parents=[common], help="per-slot aggregates for operators")
    sub.add_parser("anchors", parents=[common], help="the anchors on the ledger, as JSON lines (what --anchors reads)")
    export = sub.add_parser("export", parents=[common],
                            help="every entry as JSON lines (docs/ledger-format.md), for tools/verify_ledger.py")
    export.add_argument("--output", "-o", type=Path, help="write to this file instead of standard output")
    sub.add_parser("keygen", help="make an Ed25519 key pair for the settlement service (hex, as JSON)")
    return parser


def _keygen() -> int:
    signer = Signer.generate()
    raw = signer.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    print(json.dumps({"signing_key": raw.hex(), "public_key": public_bytes(signer.public_key).hex(),
                      "key_id": signer.key_id}))
    return 0


def _verify(ledger: LedgerReadModel, args: argparse.Namespace) -> int:
    try:
        keys = [load_public_key(k) for k in args.public_key]
    except ValueError as exc:
        print(f"bad --public-key: {exc}", file=sys.stderr)
        return EXIT_USAGE
    report = ledger.verify(keys or None, every_signature=not args.tip_only)
    mismatches = anchor_mismatches(ledger.entries(), _read_anchors(args.anchors)) if args.anchors else []
    if args.json:
        bad = report.first_bad
        print(json.dumps({"ok": report.ok and not mismatches, "entries": report.entries,
                          "signatures": report.signatures, "anchors": report.anchors,
                          "first_bad": vars(bad) if bad else None, "anchor_mismatches": mismatches}))
    else:
        print(report.summary())
        for problem in mismatches:
            print(f"  published anchor not matched: {problem}")
        if not args.public_key:
            print("note: checked against the keys recorded in the database; pass --public-key to pin the "
                  "service's published key", file=sys.stderr)
    return 0 if report.ok and not mismatches else 1


def _read_anchors(path: Path) -> list[PublishedAnchor]:
    """Anchors as JSON lines: bare ``LedgerAnchor`` payloads or whole envelopes around them."""
    anchors = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        data = json.loads(line)
        data = data.get("payload", data)
        slot = datetime.fromisoformat(data["slot"]).astimezone(UTC).isoformat()
        anchors.append(PublishedAnchor(slot, data["merkle_root"], int(data["entries"]), data.get("chain", "main")))
    return anchors


def _reconcile(ledger: LedgerReadModel, args: argparse.Namespace) -> int:
    report = ledger.reconcile()
    market = None
    if args.kafka_bootstrap:
        from services.settlement.adapters.market_trades import check_against_market

        market = check_against_market(args.database_url, args.kafka_bootstrap)
    ok = report.ok and (market is None or market.ok)
    if args.json:
        print(json.dumps({**report.to_json(), "ok": ok, **({"market": market.to_json()} if market else {})}))
    else:
        print(f"{'reconciled' if report.ok else 'NOT reconciled'}: {report.trades} trades, {report.kwh} kWh, "
              f"{report.energy_yen} yen of energy")
        for problem in report.problems:
            print(f"  - {problem}")
        if market is not None:
            print(f"{'market and ledger agree' if market.ok else 'market and ledger DIFFER'}: the market published "
                  f"{market.market_trades} trades in {market.slots} slots, the ledger holds {market.ledger_trades}")
            for difference in market.differences:
                print(f"  - {difference.describe()}")
    return 0 if ok else 1


def _statement(ledger: LedgerReadModel, args: argparse.Namespace) -> int:
    statement = ledger.statement(args.participant, args.start, args.end)
    print(json.dumps(statement.to_json(), indent=None if args.json else 2, ensure_ascii=False))
    if args.html:
        args.html.write_text(statement.to_html(), encoding="utf-8")
    return 0


def _totals(ledger: LedgerReadModel, args: argparse.Namespace) -> int:
    print(json.dumps([row.to_json() for row in ledger.slot_totals()], indent=None if args.json else 2))
    return 0


def _anchors(ledger: LedgerReadModel, args: argparse.Namespace) -> int:
    for anchor in ledger.anchors():
        row = anchor.to_json()
        print(json.dumps({k: row[k] for k in ("chain", "slot", "merkle_root", "entries")}))
    return 0


def _export(ledger: LedgerReadModel, args: argparse.Namespace) -> int:
    lines = export_lines(ledger.entries())
    if args.output is None:
        for line in lines:
            sys.stdout.write(line + "\n")
        return 0
    with args.output.open("w", encoding="utf-8") as out:
        for line in lines:
            out.write(line + "\n")
    return 0


def _configured_database() -> str | None:
    """The database the platform's settings name, only when the environment names one (the CLI reads no
    default ledger)."""
    settings = Settings.from_env()
    return settings.database_url if "database_url" in settings.model_fields_set else None


COMMANDS = {"verify": _verify, "reconcile": _reconcile, "statement": _statement, "totals": _totals,
            "anchors": _anchors, "export": _export}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["ledger"]:
        argv = argv[1:]
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command == "keygen":
        return _keygen()
    if not args.database_url:
        try:
            args.database_url = _configured_database()
        except ConfigError as exc:
            print(f"citymatch ledger {args.command}: {exc}", file=sys.stderr)
            return EXIT_USAGE
    if not args.database_url:
        print("no database: pass --database-url or set CITYMATCH_DATABASE_URL (or DATABASE_URL)", file=sys.stderr)
        return EXIT_USAGE
    try:
        ledger = open_read_model(args.database_url)
    except LedgerUnavailable as exc:
        print(f"citymatch ledger {args.command}: {exc}", file=sys.stderr)
        return EXIT_NO_LEDGER
    try:
        return COMMANDS[args.command](ledger, args)
    except SQLAlchemyError as exc:  # the database went away mid-command: one line, not a traceback
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[:1] or [type(exc).__name__]
        print(f"citymatch ledger {args.command}: ledger at {describe(args.database_url)} failed: {reason[0]}",
              file=sys.stderr)
        return EXIT_NO_LEDGER
    finally:
        ledger.close()


if __name__ == "__main__":
    raise SystemExit(main())
