"""Bring a database's ledger schema to the newest Alembic revision, from code (works from an installed package).

Several workers may open the ledger at once; on PostgreSQL an advisory lock makes them migrate one
after the other, and the later ones find nothing left to do.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

VERSION_TABLE = "ledger_alembic_version"
WRITE = "ledger_write"  # execution option: this transaction writes (SQLite then takes its write lock first)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_ADVISORY_LOCK = 0x1ED6E5  # any constant shared by every settlement worker


def migrate(engine: Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
