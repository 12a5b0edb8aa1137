"""Ledger throughput: appends with hash chain + signatures vs plain inserts of the same rows, verify, proofs.

    DATABASE_URL=postgresql+psycopg://... .venv/bin/python -m bench.ledger [--quick]

Writes reports/bench/ledger.json. The ratio ``append_per_s / plain_insert_per_s`` is the price of tamper
evidence (hashing, the sequencer lock, the duplicate check and one signature per batch). Also measured:
inclusion proofs served over real HTTP by the gateway's route (per second and p99, beside ``/health`` on the
same server as the HTTP floor), and the standalone verifier (``tools/verify_ledger.py``) beside the built-in
verify on the same export. The run uses its own chain names and trade ids and deletes its rows afterwards,
so it can point at a shared database.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import socket
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import delete, select

from bench.common import timed, write_report
from services.settlement import schema as t
from services.settlement.anchor_file import AnchorFile
from services.settlement.domain.chain import GENESIS_HASH, Entry, canonical_json
from services.settlement.domain.kinds.trade import trade_draft
from services.settlement.domain.postings import TradeFact
from services.settlement.domain.signing import Signer
from services.settlement.domain.verify import verify
from services.settlement.export import entries_from_export, export_lines
from services.settlement.sql import derived_writes, entry_rows, write_rows
from services.settlement.store import SqlLedger, open_ledger
from shared.contracts.energy import TradeMatched

log = logging.getLogger("bench.ledger")
TARGETS = {"append_per_s": 5000, "verify_per_s": 50000, "append_over_plain": 0.5}
SLOT = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)


def make_trades(n: int, prefix: str) -> list[TradeMatched]:
    return [
        TradeMatched(trade_id=f"{prefix}{i}", slot=SLOT + timedelta(minutes=30 * (i % 48)),
                     seller=f"seller-{i % 40}", buyer=f"buyer-{i % 120}", kwh=Decimal(i % 5000 + 1) / 1000,
                     price=Decimal(1500 + i % 2500) / 100, wheeling_fee=Decimal("3.10"), renewable=i % 2 == 0,
                     seller_site=f"roof-{i % 40}")
        for i in range(n)
    ]


def plain_insert(ledger: SqlLedger, trades: list[TradeMatched], chain: str, batch: int) -> None:
    """The same rows the ledger writes, in the same transactions, without chain, lock, hash or signature."""
    now = datetime.now(UTC)
    seq = 0
    for start in range(0, len(trades), batch):
        with ledger.engine.begin() as conn:
            entries = []
            for tr in trades[start:start + batch]:
                seq += 1
                draft = trade_draft(TradeFact.from_event(tr), ledger.fees, now)
                body_json = canonical_json(draft.body).decode()
                entries.append(Entry(chain, seq, draft.kind, draft.ref, draft.slot, body_json, GENESIS_HASH,
                                     GENESIS_HASH).with_parsed_body(draft.body))
            writes, _ = derived_writes(entries)
            write_rows(conn, [(t.entries, entry_rows(entries)), *writes])


def standalone_beside_builtin(entries: list[Entry], signer: Signer) -> dict[str, float]:
    """The outside verifier and the built-in one, each from the same export lines (parsing included)."""
    verifier = load_standalone_verifier()
    lines = list(export_lines(entries))
    saved = [AnchorFile.record(e.chain, e.body["slot"], e.body["entries"], e.body["merkle_root"], e.seq, e.hash)
             for e in entries if e.kind == "anchor"]
    keys = {signer.key_id: signer.public_key}
    standalone_s, (ok, message) = timed(lambda: verifier.verify_export(lines, keys, saved), repeat=3)
    builtin_s, report = timed(lambda: verify(entries_from_export(lines), signer.public_key), repeat=3)
    if not (ok and report.ok):
        raise RuntimeError(f"{message} / {report.summary()}")
    return {"standalone_verify_per_s": round(len(lines) / standalone_s),
            "builtin_verify_same_export_per_s": round(len(lines) / builtin_s),
            "standalone_over_builtin": round(builtin_s / standalone_s, 3), "export_entries": len(lines),
            "saved_anchors_checked": len(saved)}


def load_standalone_verifier():
    """tools/verify_ledger.py as an outsider would run it: loaded from its file, not as part of the project."""
    path = Path(__file__).resolve().parent.parent / "tools" / "verify_ledger.py"
    spec = importlib.util.spec_from_file_location("verify_ledger", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["verify_ledger"] = module
    spec.loader.exec_module(module)
    return module


class _NoBus:
    """The proof routes publish nothing; the benchmark's gateway has no broker."""

    def publish(self, topic: str, payload: object) -> None:
        raise RuntimeError("the proofs benchmark publishes nothing")

    def ready(self) -> bool:
        return True

    def close(self) -> None:
        return None


def proofs_over_http(url: str, trades: list[TradeMatched], seconds: float, clients: int = 4) -> dict[str, float]:
    """Inclusion proofs from the gateway's route over real HTTP (uvicorn on 127.0.0.1, keep-alive clients),
    beside ``/health`` on the same server: the HTTP floor of this machine."""
    import httpx
    import uvicorn

    from services.gateway.bootstrap import build_gateway
    from services.settlement.views import open_reader
    from shared.auth import issue_token
    from shared.settings import Settings

    settings = Settings(token_secret="bench-secret", operator_token="bench-operator")
    app = build_gateway(settings, publisher=_NoBus(), ledger=open_reader(url))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    requests = [(f"/v1/ledger/proofs/trades/{tr.trade_id}",
                 {"Authorization": f"Bearer {issue_token(settings.token_secret, tr.buyer)}"}) for tr in trades]

    def load(paths: list[tuple[str, dict[str, str]]]) -> tuple[float, list[float]]:
        latencies: list[float] = []
        lock = threading.Lock()
        stop = time.monotonic() + seconds

        def client(k: int) -> None:
            mine: list[float] = []
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                i = k
                while time.monotonic() < stop:
                    path, headers = paths[i % len(paths)]
                    t0 = time.perf_counter()
                    response = http.get(path, headers=headers)
                    mine.append(time.perf_counter() - t0)
                    if response.status_code != 200:
                        raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")
                    i += clients
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        t0 = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        return time.perf_counter() - t0, latencies

    try:
        load(requests[:50])  # warm-up: connections, caches, the first queries
        proof_s, proof_lat = load(requests)
        health_s, health_lat = load([("/health", {})])
    finally:
        server.should_exit = True
        thread.join(timeout=30)

    def p(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"proofs_per_s": round(len(proof_lat) / proof_s), "proof_p50_ms": p(proof_lat, 0.5),
            "proof_p99_ms": p(proof_lat, 0.99), "proofs_served": len(proof_lat),
            "health_per_s": round(len(health_lat) / health_s), "health_p99_ms": p(health_lat, 0.99),
            "http_clients": clients}


def cleanup(ledger: SqlLedger, chains: list[str]) -> None:
    """Remove this run's rows so the benchmark can share a database with a live ledger."""
    with ledger.engine.begin() as conn:
        conn.execute(delete(t.certificates).where(t.certificates.c.trade_id.in_(
            select(t.trades.c.trade_id).where(t.trades.c.chain.in_(chains)))))
        for table in (t.postings, t.trades, t.entries, t.anchors, t.chains):
            conn.execute(delete(table).where(table.c.chain.in_(chains)))
        conn.execute(delete(t.keys).where(t.keys.c.key_id == ledger.signer.key_id))


def run(n: int, batch: int, single: int, rounds: int, url: str) -> dict[str, float]:
    """Alternate plain and tamper-evident appends ``rounds`` times (best of each: the machine is shared)."""
    run_id = uuid.uuid4().hex[:8]
    ledger = open_ledger(url, os.urandom(32), chain=f"bench-{run_id}-0")
    chains = [f"warm-{run_id}", f"single-{run_id}"]
    try:
        plain_insert(ledger, make_trades(200, f"warm-{run_id}-"), f"warm-{run_id}", batch)  # warm-up
        plain_s, append_s = [], []
        for r in range(rounds):
            chain, plain_chain = f"bench-{run_id}-{r}", f"plain-{run_id}-{r}"
            chains += [chain, plain_chain]
            trades = make_trades(n, f"{run_id}-{r}-")
            t0 = time.perf_counter()
            plain_insert(ledger, make_trades(n, f"{run_id}-{r}-plain-"), plain_chain, batch)
            plain_s.append(time.perf_counter() - t0)
            writer = SqlLedger(ledger.engine, ledger.signer, chain=chain, fees=ledger.fees)
            writer.register()
            t0 = time.perf_counter()
            for start in range(0, n, batch):
                writer.record_trades(trades[start:start + batch])
            append_s.append(time.perf_counter() - t0)

        SqlLedger(ledger.engine, ledger.signer, chain=f"bench-{run_id}-0", fees=ledger.fees).anchor_pending()
        t0 = time.perf_counter()
        entries = list(ledger.entries(chain=f"bench-{run_id}-0"))
        load_s = time.perf_counter() - t0
        verify_s, report = timed(lambda: verify(entries, ledger.signer.public_key), repeat=3)
        if not report.ok:
            raise RuntimeError(report.summary())

        # The live service settles one trade per transaction: one signature per entry.
        singles_ledger = SqlLedger(ledger.engine, ledger.signer, chain=f"single-{run_id}", fees=ledger.fees)
        singles_ledger.register()
        singles = make_trades(single, f"{run_id}-one-")
        t0 = time.perf_counter()
        for tr in singles:
            singles_ledger.record_trade(tr)
        single_s = time.perf_counter() - t0
        single_entries = list(ledger.entries(chain=f"single-{run_id}"))
        single_verify_s, single_report = timed(lambda: verify(single_entries, ledger.signer.public_key))
        tip_only_s, tip_report = timed(
            lambda: verify(single_entries, ledger.signer.public_key, every_signature=False), repeat=3)
        if not (single_report.ok and tip_report.ok):
            raise RuntimeError(single_report.summary() + " / " + tip_report.summary())
        outside = standalone_beside_builtin(entries, ledger.signer)
        http = proofs_over_http(url, make_trades(n, f"{run_id}-0-"), seconds=3 if n <= 5000 else 8)
        return {
            **outside, **http,
            "append_per_s": round(n / min(append_s)),
            "plain_insert_per_s": round(n / min(plain_s)),
            "verify_per_s": round(len(entries) / verify_s),
            "load_and_verify_per_s": round(len(entries) / (load_s + verify_s)),
            "signatures_per_entry": round(report.signatures / len(entries), 4),
            "entries_verified": len(entries),
            "append_one_trade_per_tx_per_s": round(single / single_s),
            "verify_one_signature_per_entry_per_s": round(len(single_entries) / single_verify_s),
            "verify_tip_only_one_signature_per_entry_per_s": round(len(single_entries) / tip_only_s),
        }
    finally:
        cleanup(ledger, chains)
        ledger.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run for CI")
    parser.add_argument("--trades", type=int, default=None)
    parser.add_argument("--batch", type=int, default=500, help="trades per transaction (one signature each)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per proof request otherwise
    n = args.trades or (3000 if args.quick else 20000)
    single = 200 if args.quick else 1000
    url = os.environ.get("DATABASE_URL")
    backend = "postgresql"
    tmp = None
    if not url:
        tmp = tempfile.TemporaryDirectory()
        url = f"sqlite:///{tmp.name}/ledger.db"
        backend = "sqlite (no DATABASE_URL)"
        log.warning("DATABASE_URL not set; measuring SQLite instead of PostgreSQL")
    rounds = 1 if args.quick else 2
    metrics = run(n, args.batch, single, rounds, url)
    params = {"trades": n, "batch": args.batch, "rounds": rounds, "single_trade_txs": single, "backend": backend,
              "cpus": os.cpu_count(), "targets": TARGETS}
    baseline = {"plain_insert_per_s": metrics["plain_insert_per_s"], "health_per_s": metrics["health_per_s"],
                "builtin_verify_same_export_per_s": metrics["builtin_verify_same_export_per_s"]}
    ratio = {"append_over_plain": round(metrics["append_per_s"] / metrics["plain_insert_per_s"], 3),
             "proofs_over_health": round(metrics["proofs_per_s"] / metrics["health_per_s"], 3),
             "standalone_over_builtin_verify": metrics["standalone_over_builtin"]}
    path = write_report("ledger", params, metrics, baseline, ratio)
    log.info("wrote %s: %s (append/plain = %s)", path, metrics, ratio)
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
