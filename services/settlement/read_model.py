"""The ledger's read model on SQL: typed, scoped reads for the gateway, the CLI and the settlement service.

``open_read_model(url)`` opens the database **read-only** — PostgreSQL sessions with
``default_transaction_read_only``, SQLite with ``query_only`` on a file that must already exist — and never
migrates, makes a key or inserts anything. A missing, unreachable or unmigrated ledger raises
``LedgerUnavailable`` with one line that says which. The writer (``store.SqlLedger``) inherits these reads.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, func, make_url, or_, select
from sqlalchemy.exc import DBAPIError, NoSuchTableError, OperationalError, ProgrammingError

from services.settlement import schema as t
from services.settlement.domain.chain import Entry
from services.settlement.domain.kinds.anchor import NAME as ANCHOR
from services.settlement.domain.kinds.registry import KINDS
from services.settlement.domain.kinds.retirement import NAME as RETIREMENT
from services.settlement.domain.kinds.reward import FUNDING, REWARD, CampaignAccount, campaign_accounts
from services.settlement.domain.kinds.trade import NAME as TRADE
from services.settlement.domain.merkle import inclusion_proof
from services.settlement.domain.money import sen_to_yen, wh_to_kwh
from services.settlement.domain.postings import JPY, KWH, Posting, participant_account
from services.settlement.domain.projection import table_problems
from services.settlement.domain.reconcile import ReconcileReport, reconcile
from services.settlement.domain.signing import load_public_key
from services.settlement.domain.statement import Statement, build_statement
from services.settlement.domain.verify import VerifyReport, verify
from services.settlement.migrate import VERSION_TABLE
from services.settlement.ports import (
    AnchorRow,
    Balance,
    CertificateRow,
    InclusionProof,
    LedgerUnavailable,
    NotFound,
    NotYetAnchored,
    SlotTotal,
    TradeRow,
)
from services.settlement.sql import postgres_url, slot_str, utc

_ENTRY_COLUMNS = ("chain", "seq", "kind", "ref", "slot", "body", "prev_hash", "hash", "signature", "key_id")
_UNAVAILABLE = (OperationalError, ProgrammingError, NoSuchTableError, DBAPIError)


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown as given (it holds no parsable password either)
        return url


def read_only_engine(url: str) -> Engine:
    """An engine that cannot write; a SQLite file that does not exist is refused, never created.

    Nothing connects here: the first query does (``ping``), so a reader can be opened while the database
    is down and report not-ready until it is back.
    """
    if url.startswith("sqlite"):
        database = make_url(url).database or ""
        memory = database in ("", ":memory:")
        return create_engine("sqlite://", creator=lambda: _sqlite_read_only(None if memory else database))
    return create_engine(postgres_url(url), pool_recycle=1800, pool_pre_ping=True,
                         connect_args={"options": "-c default_transaction_read_only=on", "connect_timeout": 5})


def _sqlite_read_only(path: str | None) -> sqlite3.Connection:
    if path is not None and not Path(path).is_file():
        raise sqlite3.OperationalError(f"{path} does not exist")
    target = "file::memory:" if path is None else f"file:{quote(path)}?mode=rw"  # rw: WAL readers need the -shm
    conn = sqlite3.connect(target, uri=True, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA query_only = ON")
    return conn


def open_read_model(url: str, *, check: bool = True) -> SqlReadModel:
    """The read model over ``url``; with ``check`` it raises ``LedgerUnavailable`` unless a ledger answers now."""
    model = SqlReadModel(read_only_engine(url), label=describe(url))
    if check:
        try:
            model.ping()
        except LedgerUnavailable:
            model.close()
            raise
    return model


class SqlReadModel:
    """Reads of the ledger (``ports.LedgerReadModel``) over a SQLAlchemy engine."""

    def __init__(self, engine: Engine, *, label: str | None = None) -> None:
        self.engine = engine
        self.label = label or describe(str(engine.url))
        self._postgres = engine.dialect.name == "postgresql"

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(select(func.count()).select_from(t.chains)).scalar_one()
                conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").all()
        except _UNAVAILABLE as exc:
            raise LedgerUnavailable(f"ledger at {self.label} not usable: {_first_line(exc)}") from None

    # ------------------------------------------------------------------ participant-scoped

    def trade_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.trades)).scalar_one())

    def trades_for(self, participant: str) -> list[TradeRow]:
        """The participant's own trades, oldest first; never anyone else's."""
        query = (select(t.trades).where(or_(t.trades.c.seller == participant, t.trades.c.buyer == participant))
                 .order_by(t.trades.c.slot, t.trades.c.chain, t.trades.c.seq))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [TradeRow(r.trade_id, utc(r.slot), r.seller, r.buyer, wh_to_kwh(r.wh), sen_to_yen(r.price_sen),
                         sen_to_yen(r.energy_sen), r.tier, bool(r.renewable),
                         "buyer" if r.buyer == participant else "seller") for r in rows]

    def balance(self, participant: str) -> Balance:
        account = participant_account(participant)
        query = (select(t.postings.c.commodity, func.sum(t.postings.c.amount))
                 .where(t.postings.c.account == account).group_by(t.postings.c.commodity))
        with self.engine.connect() as conn:
            sums = {c: int(v) for c, v in conn.execute(query).tuples()}
        return Balance(participant, sen_to_yen(sums.get(JPY, 0)), wh_to_kwh(sums.get(KWH, 0)))

    def certificates(self, participant: str) -> list[CertificateRow]:
        query = (select(t.certificates).where(t.certificates.c.owner == participant)
                 .order_by(t.certificates.c.slot, t.certificates.c.cert_id))
        with self.engine.connect() as conn:
            return [_certificate(r) for r in conn.execute(query).all()]

    def certificate(self, cert_id: str) -> CertificateRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.certificates).where(t.certificates.c.cert_id == cert_id)).first()
        return None if row is None else _certificate(row)

    def renewable_progress(self, participant: str) -> dict[str, Decimal]:
        """kWh of certificates the participant has retired, per renewable target."""
        query = (select(t.certificates.c.retired_target, func.sum(t.certificates.c.wh))
                 .where(t.certificates.c.owner == participant, t.certificates.c.retired_seq.is_not(None))
                 .group_by(t.certificates.c.retired_target).order_by(t.certificates.c.retired_target))
        with self.engine.connect() as conn:
            return {target: wh_to_kwh(int(wh)) for target, wh in conn.execute(query).all()}

    def statement(self, participant: str, start: datetime | None = None, end: datetime | None = None) -> Statement:
        """The participant's trades, fees, certificates and other payments for slots in [start, end)."""
        cond = [or_(t.trades.c.seller == participant, t.trades.c.buyer == participant)]
        if start is not None:
            cond.append(t.trades.c.slot >= start)
        if end is not None:
            cond.append(t.trades.c.slot < end)
        query = (select(t.entries).join(t.trades, (t.trades.c.chain == t.entries.c.chain)
                                        & (t.trades.c.seq == t.entries.c.seq))
                 .where(*cond).order_by(t.entries.c.slot, t.entries.c.chain, t.entries.c.seq))
        retire_q = (select(t.entries).join(t.certificates, t.certificates.c.cert_id == t.entries.c.ref)
                    .where(t.certificates.c.owner == participant, t.entries.c.kind == RETIREMENT))
        others = (select(t.postings.c.chain, t.postings.c.seq).distinct()
                  .where(t.postings.c.account == participant_account(participant)))
        if start is not None:
            others = others.where(t.postings.c.slot >= start)
        if end is not None:
            others = others.where(t.postings.c.slot < end)
        others_sub = others.subquery()
        other_q = (select(t.entries).join(others_sub, (others_sub.c.chain == t.entries.c.chain)
                                          & (others_sub.c.seq == t.entries.c.seq))
                   .where(t.entries.c.kind.not_in((TRADE, RETIREMENT, ANCHOR)))
                   .order_by(t.entries.c.slot, t.entries.c.chain, t.entries.c.seq))
        with self.engine.connect() as conn:
            trade_entries = [_to_entry(r) for r in conn.execute(query)]
            retirements = [_to_entry(r) for r in conn.execute(retire_q)]
            other_entries = [_to_entry(r) for r in conn.execute(other_q)]
        return build_statement(participant, start, end, trade_entries, retirements, other_entries)

    # ------------------------------------------------------------------ operator

    def slot_totals(self) -> list[SlotTotal]:
        """Per slot: trades, kWh and money by posting kind — aggregates only, no participant names."""
        with self.engine.connect() as conn:
            trades_q = (select(t.trades.c.slot, func.count(), func.sum(t.trades.c.wh))
                        .group_by(t.trades.c.slot).order_by(t.trades.c.slot))
            money_q = (select(t.postings.c.slot, t.postings.c.kind, func.sum(t.postings.c.amount))
                       .where(t.postings.c.commodity == JPY, t.postings.c.amount > 0)
                       .group_by(t.postings.c.slot, t.postings.c.kind))
            money: dict[tuple[str | None, str], int] = {
                (slot_str(s), k): int(v) for s, k, v in conn.execute(money_q).tuples()}
            out = []
            for slot, n, wh in conn.execute(trades_q).tuples():
                key = slot_str(slot)
                out.append(SlotTotal(utc(slot), int(n), wh_to_kwh(int(wh)),
                                     *(sen_to_yen(money.get((key, k), 0))
                                       for k in ("energy", "wheeling", "platform_fee"))))
        return out

    def anchors(self) -> list[AnchorRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.anchors).order_by(t.anchors.c.slot, t.anchors.c.entries)).all()
        return [AnchorRow(r.chain, utc(r.slot), int(r.entries), r.merkle_root, int(r.seq)) for r in rows]

    def entries(self, chain: str | None = None, batch: int = 5000) -> Iterator[Entry]:
        """Every entry in chain order (streamed), for verification, exports and audits."""
        columns = [t.entries.c[name] for name in _ENTRY_COLUMNS]
        query = select(*columns).order_by(t.entries.c.chain, t.entries.c.seq)
        if chain is not None:
            query = query.where(t.entries.c.chain == chain)
        with self.engine.connect() as conn:
            if self._postgres:  # a server-side cursor straight from the driver: a third faster than Rows
                sql_text = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
                with conn.connection.driver_connection.cursor(name="ledger_entries_scan") as cur:
                    cur.itersize = batch
                    cur.execute(sql_text)
                    for c, seq, kind, ref, slot, body, prev, digest, sig, kid in cur:
                        yield Entry(c, seq, kind, ref, slot_str(slot), body, prev, digest, sig, kid)
                return
            for row in conn.execution_options(yield_per=batch).execute(query):
                yield _to_entry(row)

    def entry(self, kind: str, ref: str) -> Entry | None:
        with self.engine.connect() as conn:
            return self._entry(conn, kind, ref)

    def campaign_accounts(self) -> list[CampaignAccount]:
        """Every ``campaign:<id>`` account: funding, rewards per offer, balance (from those two kinds only)."""
        query = (select(t.entries).where(t.entries.c.kind.in_((FUNDING, REWARD)))
                 .order_by(t.entries.c.chain, t.entries.c.seq))
        with self.engine.connect() as conn:
            return campaign_accounts(_to_entry(r) for r in conn.execute(query))

    def stored_postings(self) -> Iterator[tuple[str, int, Posting]]:
        query = select(t.postings).order_by(t.postings.c.chain, t.postings.c.seq, t.postings.c.idx)
        with self.engine.connect() as conn:
            for r in conn.execution_options(yield_per=5000).execute(query):
                yield r.chain, int(r.seq), Posting(r.account, r.commodity, int(r.amount), r.kind)

    def public_keys(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.keys.c.key_id, t.keys.c.public_key)).tuples().all()
        return {k: load_public_key(v) for k, v in rows}

    def verify(self, public_keys: Any = None, *, every_signature: bool = True) -> VerifyReport:
        """Verify the stored chain against ``public_keys`` (default: the keys recorded in the database)."""
        keys = public_keys if public_keys is not None else self.public_keys()
        return verify(self.entries(), keys, every_signature=every_signature)

    def reconcile(self) -> ReconcileReport:
        """The pure reconciliation over the entries, plus: do the query tables still match the entries?

        Trades, postings and certificates tables are derived from the chain for fast reads; a row edited
        behind the service's back would mislead readers without breaking the chain, so it is checked here.
        """
        entries = list(self.entries())
        report = reconcile(entries, list(self.stored_postings()))
        with self.engine.connect() as conn:
            stored = {table.name: [dict(r) for r in conn.execute(select(table)).mappings()]
                      for table in (t.trades, t.certificates)}
        problems = report.problems + table_problems(entries, stored, {"ledger_trades": "trade_id",
                                                                      "ledger_certificates": "cert_id"})
        return dataclasses.replace(report, ok=not problems, problems=problems)

    def inclusion_proof(self, kind: str, ref: str) -> InclusionProof:
        """Proof that entry ``(kind, ref)`` sits under its slot's latest published anchor.

        Raises ``NotFound`` without such an entry and ``NotYetAnchored`` before its slot's anchor covers it.
        Callers scope by participant before asking (the route checks the trade or certificate is theirs).
        """
        with self.engine.connect() as conn:
            mine = self._entry(conn, kind, ref)
            if mine is None or mine.slot is None or not KINDS[kind].anchored:
                raise NotFound(f"no anchored {kind} entry {ref}")
            slot = datetime.fromisoformat(mine.slot)
            anchor = conn.execute(
                select(t.anchors).where(t.anchors.c.chain == mine.chain, t.anchors.c.slot == slot)
                .order_by(t.anchors.c.entries.desc()).limit(1)).first()
            hashes = list(conn.execute(
                select(t.entries.c.hash).where(t.entries.c.chain == mine.chain,
                                               t.entries.c.kind.in_(KINDS.anchored()), t.entries.c.slot == slot)
                .order_by(t.entries.c.seq)).scalars())
        return proof_under_anchor(mine, hashes, None if anchor is None else
                                  AnchorRow(anchor.chain, utc(anchor.slot), int(anchor.entries),
                                            anchor.merkle_root, int(anchor.seq)))

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _entry(conn: Connection, kind: str, ref: str) -> Entry | None:
        row = conn.execute(select(t.entries).where(t.entries.c.kind == kind, t.entries.c.ref == ref)).first()
        return None if row is None else _to_entry(row)


def proof_under_anchor(entry: Entry, slot_hashes: Sequence[str], anchor: AnchorRow | None) -> InclusionProof:
    """The Merkle path of ``entry`` among its slot's anchored hashes (in chain order) up to ``anchor``."""
    index = slot_hashes.index(entry.hash)
    if anchor is None or index >= anchor.entries:
        raise NotYetAnchored(f"{entry.kind} {entry.ref} is not under a published anchor yet")
    leaves = list(slot_hashes[:anchor.entries])
    return InclusionProof(entry, index, len(leaves), tuple(inclusion_proof(leaves, index)), anchor)


def _certificate(r: Any) -> CertificateRow:
    return CertificateRow(r.cert_id, r.trade_id, utc(r.slot), r.source_participant, r.source_site,
                          wh_to_kwh(r.wh), r.owner, int(r.issued_seq),
                          None if r.retired_seq is None else int(r.retired_seq), r.retired_target)


def _to_entry(row: Any) -> Entry:
    return Entry(row.chain, int(row.seq), row.kind, row.ref, slot_str(row.slot), row.body,
                 row.prev_hash, row.hash, row.signature, row.key_id)


def _first_line(exc: BaseException) -> str:
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip().splitlines()
    return text[0] if text else type(inner).__name__
