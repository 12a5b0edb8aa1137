"""The SQL adapter of the ``Ledger`` port (PostgreSQL, or SQLite for development): the writes.

Reads come from ``read_model.SqlReadModel``, which this class extends; ``sql.py`` holds the row plumbing.

Writers and the chain
---------------------
All entries live on one hash chain per ``chain`` name (default ``"main"``), guarded by a **sequencer
row**: every write transaction starts by locking its chain's row in ``ledger_chains`` (``SELECT ... FOR
UPDATE``; on SQLite ``BEGIN IMMEDIATE`` serialises writers). Several settlement workers — one per Kafka
partition — may therefore run side by side: they queue on that row for the few milliseconds a
transaction takes, and the chain can neither fork (two entries with one sequence number) nor interleave
half-written batches. We chose this over a chain per partition because partitions move between workers on
a rebalance and a zombie worker could then extend "its" chain concurrently; with the row lock, ownership
does not matter. A deployment that outgrows one sequencer can give each worker its own ``chain`` name.

Exactly once
------------
A trade, its entry, postings and certificate are written in one transaction together with the new chain
head. The duplicate check runs under the row lock, and the primary key on ``trade_id`` plus the unique
``(kind, ref)`` of entries stay as the last line of defence (a conflicting transaction rolls back and is
retried once, then finds the trade recorded). A worker that dies before committing its Kafka offset
leaves either the whole trade or nothing; the redelivered trade is then a no-op.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from services.settlement import schema as t
from services.settlement.domain.chain import ChainHead, Draft, Entry, append
from services.settlement.domain.kinds.anchor import NAME as ANCHOR
from services.settlement.domain.kinds.anchor import anchor_draft
from services.settlement.domain.kinds.registry import KINDS
from services.settlement.domain.kinds.retirement import NAME as RETIREMENT
from services.settlement.domain.kinds.trade import NAME as TRADE
from services.settlement.domain.merkle import merkle_root
from services.settlement.domain.money import FeeSchedule
from services.settlement.domain.signing import Signer, public_bytes
from services.settlement.migrate import WRITE, migrate
from services.settlement.ports import RetirementOutcome
from services.settlement.read_model import SqlReadModel
from services.settlement.sql import apply_updates, derived_writes, entry_rows, make_engine, utc, write_rows
from services.settlement.writes import TradeWrites, fresh_drafts, in_request_order, retire
from shared.contracts.ledger import LedgerAnchor

log = logging.getLogger(__name__)

_IN_CHUNK = 500  # refs per IN (...) list


def open_ledger(url: str, signing_key: bytes | None = None, *, chain: str = "main",
                fees: FeeSchedule | None = None) -> SqlLedger:
    """Open (creating or migrating the schema) the ledger at ``url`` for writing: the settlement service's.

    ``signing_key`` is the service's 32-byte raw Ed25519 private key; without one a throwaway key is made
    (fine for demos and tests, useless for audits — its public key is only recorded in the database).
    Readers use ``read_model.open_read_model`` instead, which never writes.
    """
    engine = make_engine(url)
    migrate(engine)
    signer = Signer.generate() if signing_key is None else Signer.from_bytes(signing_key)
    ledger = SqlLedger(engine, signer, chain=chain, fees=fees or FeeSchedule(), throwaway_key=signing_key is None)
    ledger.register()
    return ledger


class SqlLedger(TradeWrites, SqlReadModel):
    """Write trades, retirements, anchors (and entries of any registered kind) to the chain."""

    def __init__(self, engine: Engine, signer: Signer, *, chain: str = "main",
                 fees: FeeSchedule | None = None, throwaway_key: bool = False) -> None:
        super().__init__(engine)
        self.signer = signer
        self.chain = chain
        self.fees = fees or FeeSchedule()
        self._key_known = False
        self._throwaway_key = throwaway_key
        self._write_lock = threading.Lock()

    # ------------------------------------------------------------------ plumbing

    def register(self) -> None:
        """Make sure this chain's head row exists (the row every writer locks)."""
        with self.engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            if conn.execute(select(t.chains.c.chain).where(t.chains.c.chain == self.chain)).first() is None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(t.chains).values(chain=self.chain, head_seq=0,
                                                             head_hash=ChainHead(self.chain).hash))
                except IntegrityError:
                    pass  # another worker created it first

    @contextmanager
    def _writing(self) -> Iterator[tuple[Connection, ChainHead]]:
        """One write transaction: sequencer lock taken, our public key on record; commits on exit.

        The in-process lock keeps this worker's own threads (a handler and the anchor timer) from
        sharing one SQLite connection mid-transaction; across processes the row lock does the work.
        """
        with self._write_lock, self.engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            head = self._lock_head(conn)
            if not self._key_known and conn.execute(
                    select(t.keys.c.key_id).where(t.keys.c.key_id == self.signer.key_id)).first() is None:
                if self._throwaway_key:
                    log.warning("signing ledger entries with a throwaway Ed25519 key %s (no key configured)",
                                self.signer.key_id)
                conn.execute(insert(t.keys).values(key_id=self.signer.key_id, public_key=self.public_key_hex,
                                                   created_at=datetime.now(UTC)))
            yield conn, head
        self._key_known = True  # only once the key row is committed

    @property
    def public_key_hex(self) -> str:
        return public_bytes(self.signer.public_key).hex()

    def _now(self) -> datetime:
        return datetime.now(UTC)

    def _lock_head(self, conn: Connection) -> ChainHead:
        """Take the sequencer lock on this chain's head row; every write transaction starts here."""
        query = select(t.chains.c.head_seq, t.chains.c.head_hash).where(t.chains.c.chain == self.chain)
        if self._postgres:
            query = query.with_for_update()
        row = conn.execute(query).one()
        return ChainHead(self.chain, int(row.head_seq), row.head_hash)

    def _append(self, conn: Connection, head: ChainHead, drafts: Sequence[Draft]) -> list[Entry]:
        """Chain, sign and write ``drafts`` with everything their kinds derive, inside the transaction."""
        entries, new_head = append(head, drafts, self.signer)
        writes, updates = derived_writes(entries)
        write_rows(conn, [(t.entries, entry_rows(entries)), *writes], new_head)
        apply_updates(conn, updates)
        return entries

    def _known(self, conn: Connection, kind: str, refs: Sequence[str]) -> set[str]:
        known: set[str] = set()
        for i in range(0, len(refs), _IN_CHUNK):
            chunk = refs[i:i + _IN_CHUNK]
            known.update(conn.execute(select(t.entries.c.ref).where(
                t.entries.c.kind == kind, t.entries.c.ref.in_(chunk))).scalars())
        return known

    # ------------------------------------------------------------------ writes

    def record(self, drafts: Sequence[Draft]) -> list[Entry | None]:
        """Append drafts of any registered kind once each; ``None`` for a ``(kind, ref)`` already recorded."""
        for draft in drafts:
            KINDS[draft.kind]  # an unregistered kind fails here, before anything is written
        for attempt in (1, 2):
            try:
                return self._record(drafts)
            except IntegrityError:
                if attempt == 2:
                    raise
                log.info("concurrent writer recorded some of these entries first; retrying the batch")
        raise AssertionError("unreachable")

    def _record(self, drafts: Sequence[Draft]) -> list[Entry | None]:
        with self._writing() as (conn, head):
            known: set[tuple[str, str]] = set()
            for kind in {d.kind for d in drafts}:
                refs = list({d.ref for d in drafts if d.kind == kind})
                known.update((kind, ref) for ref in self._known(conn, kind, refs))
            fresh = fresh_drafts(drafts, known)
            entries = self._append(conn, head, fresh) if fresh else []
        return in_request_order(drafts, entries)

    def retire_certificate(self, cert_id: str, participant: str, target: str) -> RetirementOutcome:
        """Retire ``participant``'s certificate against ``target`` once (rules: ``decide_retirement``), under
        the sequencer lock so two requests cannot both pass the check."""
        with self._writing() as (conn, head):
            row = conn.execute(select(t.certificates).where(t.certificates.c.cert_id == cert_id)).first()
            return retire(cert_id, participant, target, self._now(),
                          issued=None if row is None else self._entry(conn, TRADE, row.trade_id),
                          retired_target=None if row is None or row.retired_seq is None else row.retired_target,
                          existing=lambda: self._entry(conn, RETIREMENT, cert_id),
                          append=lambda draft: self._append(conn, head, [draft])[0])

    def _unanchored_slots(self, conn: Connection) -> list[datetime]:
        """Slots that gained anchored entries since this chain's last anchor (only those can need a new one)."""
        since = conn.execute(select(func.coalesce(func.max(t.anchors.c.seq), 0))
                             .where(t.anchors.c.chain == self.chain)).scalar_one()
        touched = conn.execute(
            select(t.entries.c.slot).distinct()
            .where(t.entries.c.chain == self.chain, t.entries.c.kind.in_(KINDS.anchored()),
                   t.entries.c.seq > since)).scalars()
        return sorted({slot for slot in map(utc, touched) if slot is not None})

    def anchor_pending(self) -> list[LedgerAnchor]:
        """Anchor every slot with anchored entries not yet under a published Merkle root.

        One call is one short transaction (or none when nothing is pending), safe to repeat after a failure:
        a caller that retries it loses nothing and doubles nothing.
        """
        with self.engine.connect() as conn:
            if not self._unanchored_slots(conn):
                return []  # the common case on a timer tick: no need to queue on the sequencer
        with self._writing() as (conn, head):
            pending = self._unanchored_slots(conn)
            if not pending:
                return []
            now = self._now()
            drafts: list[Draft] = []
            for slot in pending:
                hashes = list(conn.execute(
                    select(t.entries.c.hash).where(t.entries.c.chain == self.chain,
                                                   t.entries.c.kind.in_(KINDS.anchored()),
                                                   t.entries.c.slot == slot)
                    .order_by(t.entries.c.seq)).scalars())
                drafts.append(anchor_draft(slot.isoformat(), merkle_root(hashes), len(hashes), now))
            entries = self._append(conn, head, drafts)
        return [LedgerAnchor(slot=datetime.fromisoformat(e.body["slot"]), merkle_root=e.body["merkle_root"],
                             entries=e.body["entries"]) for e in entries if e.kind == ANCHOR]

