"""The SQL adapter of the accounts: PostgreSQL (psycopg 3) or SQLite, schema kept by Alembic.

Rotation and revocation are single conditional UPDATEs, so two requests presenting the same refresh
token at once cannot both succeed: the database lets one of them change the row.

The schema is brought up to date on first use, not at construction, so a gateway starts (and says
not-ready) while its database is down, and its account routes answer 503 until the database is back.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from services.gateway.accounts import schema as t
from services.gateway.accounts.domain.preferences import Preferences
from services.gateway.accounts.migrate import migrate


@dataclass(frozen=True)
class AccountRow:
    account_id: str
    username: str
    role: str
    subject: str
    password_hash: str
    created_at: datetime
    disabled_at: datetime | None


@dataclass(frozen=True)
class RefreshRow:
    token_hash: str
    account_id: str
    family: str
    issued_at: datetime
    expires_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None


class Duplicate(Exception):
    """An insert hit a unique column (``column`` names it)."""

    def __init__(self, column: str) -> None:
        super().__init__(column)
        self.column = column


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_engine(url: str) -> Engine:
    """PostgreSQL through psycopg 3 (``postgresql://`` accepted); SQLite shared across the gateway's threads."""
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if not url.startswith("sqlite"):
        return create_engine(url, pool_recycle=1800, pool_pre_ping=True)
    memory = url in ("sqlite://", "sqlite:///:memory:")
    if not memory and url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, poolclass=StaticPool if memory else None,
                           connect_args={"check_same_thread": False, "timeout": 30})
    if not memory:
        @event.listens_for(engine, "connect")
        def _wal(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
    return engine


class SqlAccountStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._migrated = False
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The engine, once the schema is migrated (raises the database's error while it cannot be)."""
        if not self._migrated:
            with self._lock:
                if not self._migrated:
                    migrate(self._engine)
                    self._migrated = True
        return self._engine

    def close(self) -> None:
        """Dispose of the pool; an in-memory database lives as long as this object (disposing would drop it,
        and an app's lifespan may stop and start again around the same store)."""
        if self._engine.url.database not in (None, "", ":memory:"):
            self._engine.dispose()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    # ------------------------------------------------------------------ accounts

    def insert_account(self, row: AccountRow) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(t.accounts).values(**vars(row)))
        except IntegrityError as exc:
            text = str(exc.orig).lower()
            raise Duplicate("username" if "username" in text else "account_id") from None

    def _account(self, *where: Any) -> AccountRow | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(t.accounts).where(*where)).first()
        return _account_row(r) if r is not None else None

    def by_username(self, username: str) -> AccountRow | None:
        return self._account(t.accounts.c.username == username)

    def by_id(self, account_id: str) -> AccountRow | None:
        return self._account(t.accounts.c.account_id == account_id)

    def subject_taken(self, subject: str, role: str) -> bool:
        return self._account(t.accounts.c.subject == subject, t.accounts.c.role == role) is not None

    def app_user_of(self, subject: str) -> AccountRow | None:
        return self._account(t.accounts.c.subject == subject, t.accounts.c.role == "app-user")

    def all(self) -> Sequence[AccountRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.accounts).order_by(t.accounts.c.created_at, t.accounts.c.username))
            return [_account_row(r) for r in rows]

    def set_password_hash(self, account_id: str, password_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(t.accounts).where(t.accounts.c.account_id == account_id)
                         .values(password_hash=password_hash))

    def disable(self, account_id: str, now: datetime) -> bool:
        """Disable the account and revoke its refresh tokens; False if there is no such account."""
        with self.engine.begin() as conn:
            done = conn.execute(update(t.accounts).where(t.accounts.c.account_id == account_id)
                                .values(disabled_at=now)).rowcount
            conn.execute(update(t.refresh_tokens).where(t.refresh_tokens.c.account_id == account_id,
                                                        t.refresh_tokens.c.revoked_at.is_(None))
                         .values(revoked_at=now))
        return bool(done)

    # ------------------------------------------------------------------ refresh tokens

    def insert_refresh(self, row: RefreshRow) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(t.refresh_tokens).values(**vars(row)))

    def refresh_row(self, token_hash: str) -> RefreshRow | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(t.refresh_tokens).where(t.refresh_tokens.c.token_hash == token_hash)).first()
        return _refresh_row(r) if r is not None else None

    def mark_rotated(self, token_hash: str, now: datetime) -> bool:
        """Use the token once: True only for the one request that changed it from live to rotated."""
        live = (t.refresh_tokens.c.token_hash == token_hash, t.refresh_tokens.c.rotated_at.is_(None),
                t.refresh_tokens.c.revoked_at.is_(None))
        with self.engine.begin() as conn:
            return conn.execute(update(t.refresh_tokens).where(*live).values(rotated_at=now)).rowcount == 1

    def revoke_family(self, family: str, now: datetime) -> int:
        with self.engine.begin() as conn:
            return conn.execute(update(t.refresh_tokens).where(t.refresh_tokens.c.family == family,
                                                               t.refresh_tokens.c.revoked_at.is_(None))
                                .values(revoked_at=now)).rowcount

    # ------------------------------------------------------------------ preferences

    def preferences(self, account_id: str) -> Preferences | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(t.preferences).where(t.preferences.c.account_id == account_id)).first()
        if r is None:
            return None
        return Preferences(bool(r.notifications), r.quiet_start, r.quiet_end, r.ev_profile, r.home_area,
                           r.work_area, bool(r.offers_opt_out))

    def save_preferences(self, account_id: str, prefs: Preferences, now: datetime) -> None:
        """Insert or replace the account's preferences (one row per account)."""
        values = {**vars(prefs), "updated_at": now}
        with self.engine.begin() as conn:
            done = conn.execute(update(t.preferences).where(t.preferences.c.account_id == account_id)
                                .values(**values)).rowcount
            if not done:
                conn.execute(insert(t.preferences).values(account_id=account_id, **values))


def _account_row(r: Any) -> AccountRow:
    return AccountRow(r.account_id, r.username, r.role, r.subject, r.password_hash, _utc(r.created_at),
                      _utc(r.disabled_at))


def _refresh_row(r: Any) -> RefreshRow:
    return RefreshRow(r.token_hash, r.account_id, r.family, _utc(r.issued_at), _utc(r.expires_at),
                      _utc(r.rotated_at), _utc(r.revoked_at))


def open_store(url: str, *, migrate_now: bool = True) -> SqlAccountStore:
    """The accounts database at ``url``; its schema created or migrated now, or on first use."""
    store = SqlAccountStore(make_engine(url))
    if migrate_now:
        store.engine  # noqa: B018 - migrates
    return store
