"""Bring a database's accounts schema to the newest Alembic revision, from code.

The accounts keep their own version table, so they share a PostgreSQL database with the ledger without
either's migrations seeing the other's. Several gateways may start at once: an advisory lock makes them
migrate one after the other.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

VERSION_TABLE = "accounts_alembic_version"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_ADVISORY_LOCK = 0xACC0_0001


def migrate(engine: Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
