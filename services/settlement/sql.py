"""SQL plumbing for the ledger store: engines, the rows a ledger entry implies, and writing them fast.

Kept apart from ``store.py`` so that the store reads as ledger operations; nothing here knows about
locks, duplicates or signatures.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Connection, DateTime, Engine, Table, create_engine, event, insert, update
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeEngine

from services.settlement import schema as t
from services.settlement.domain.chain import ChainHead, Entry
from services.settlement.domain.kinds.base import ProjectedRow
from services.settlement.domain.kinds.registry import KINDS
from services.settlement.migrate import WRITE

Row = dict[str, Any]
PIPELINE_MAX_ROWS = 200  # above this many rows in one write, COPY beats pipelined INSERTs


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time in the ledger is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def slot_str(value: datetime | None) -> str | None:
    """A stored slot as the ISO string the entry hashed."""
    v = utc(value)
    return v.isoformat() if v else None


def comparable(value: Any) -> Any:
    """Compare stored and derived values alike (SQLite returns naive datetimes and 0/1 booleans)."""
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, bool):
        return int(value)
    return value


def postgres_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` URLs go through psycopg 3."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    """PostgreSQL through psycopg 3; SQLite with writers serialised by ``BEGIN IMMEDIATE``."""
    url = postgres_url(url)
    if not url.startswith("sqlite"):
        # pre_ping: a pooled connection a database restart has closed is replaced, not handed out (no 5xx after)
        return create_engine(url, pool_recycle=1800, pool_pre_ping=True)
    memory = url in ("sqlite://", "sqlite:///:memory:")
    engine = create_engine(url, poolclass=StaticPool if memory else None,
                           connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        if not memory:
            dbapi_conn.execute("PRAGMA journal_mode=WAL")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Writers take SQLite's write lock up front (the sequencer on SQLite); readers do not block them.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")

    return engine


def entry_rows(entries: Sequence[Entry]) -> list[Row]:
    return [
        {"chain": e.chain, "seq": e.seq, "kind": e.kind, "ref": e.ref,
         "slot": datetime.fromisoformat(e.slot) if e.slot else None, "body": e.body_json,
         "prev_hash": e.prev_hash, "hash": e.hash, "signature": e.signature, "key_id": e.key_id}
        for e in entries
    ]


def derived_writes(entries: Sequence[Entry]) -> tuple[list[tuple[Table, list[Row]]], list[ProjectedRow]]:
    """What appending ``entries`` writes besides the entries: every kind's postings (one table for all
    kinds) and the query rows its kind projects, split into inserts (per table) and keyed updates."""
    postings: list[Row] = []
    inserts: dict[str, list[Row]] = {}
    updates: list[ProjectedRow] = []
    for e in entries:
        kind = KINDS[e.kind]
        slot = datetime.fromisoformat(e.slot) if e.slot else None
        postings += [{"chain": e.chain, "seq": e.seq, "idx": i, "account": p.account, "commodity": p.commodity,
                      "amount": p.amount, "kind": p.kind, "slot": slot}
                     for i, p in enumerate(kind.postings(e.body))]
        for row in kind.rows(e):
            if row.key:
                updates.append(row)
            else:
                inserts.setdefault(row.table, []).append(dict(row.values))
    writes = [(t.postings, postings)] + [(t.metadata.tables[name], rows) for name, rows in inserts.items()]
    return writes, updates


def apply_updates(conn: Connection, updates: Sequence[ProjectedRow]) -> None:
    for row in updates:
        table = t.metadata.tables[row.table]
        conn.execute(update(table).where(*(table.c[k] == row.values[k] for k in row.key))
                     .values({k: v for k, v in row.values.items() if k not in row.key}))


def write_rows(conn: Connection, writes: Sequence[tuple[Table, Sequence[Row]]], head: ChainHead | None = None) -> None:
    """Insert rows into several tables (and move the chain head) inside the open transaction.

    PostgreSQL: big batches go through binary COPY, an order faster than INSERTs; small ones (the live
    one-trade-per-message path) are INSERTs sent in one pipeline, one round trip for everything.
    """
    writes = [(table, rows) for table, rows in writes if rows]
    if conn.dialect.name != "postgresql":
        for table, rows in writes:
            conn.execute(insert(table), rows)
    elif sum(len(rows) for _, rows in writes) > PIPELINE_MAX_ROWS:
        for table, rows in writes:
            copy_rows(conn, table, rows)
    else:
        raw = conn.connection.driver_connection
        with raw.pipeline(), raw.cursor() as cur:
            for table, rows in writes:
                columns = list(rows[0])
                cur.executemany(
                    f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES '
                    f'({", ".join(["%s"] * len(columns))})', [[row[c] for c in columns] for row in rows])
            if head is not None:
                cur.execute("UPDATE ledger_chains SET head_seq = %s, head_hash = %s WHERE chain = %s",
                            (head.seq, head.hash, head.chain))
        return
    if head is not None:
        conn.execute(update(t.chains).where(t.chains.c.chain == head.chain)
                     .values(head_seq=head.seq, head_hash=head.hash))


def copy_rows(conn: Connection, table: Table, rows: Sequence[Row]) -> None:
    """Binary COPY into ``table`` on the transaction's own connection."""
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    with conn.connection.driver_connection.cursor() as cur, \
            cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN (FORMAT BINARY)') as copy:
        copy.set_types([_pg_type(table.c[c].type) for c in columns])
        for row in rows:
            copy.write_row([row[c] for c in columns])


def _pg_type(column_type: TypeEngine[Any]) -> str:
    """The PostgreSQL type name binary COPY needs for one of our column types."""
    if isinstance(column_type, BigInteger):
        return "int8"
    if isinstance(column_type, Boolean):
        return "bool"
    if isinstance(column_type, DateTime):
        return "timestamptz"
    return "text"
