"""The accounts' tables (SQLAlchemy Core); ``migrations/`` creates and changes them."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, MetaData, String, Table

metadata = MetaData()

accounts = Table(
    "accounts", metadata,
    Column("account_id", String(64), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    # Whom the account's tokens speak for: its own id for app users, the owner's participant id for a device.
    Column("subject", String(64), nullable=False),
    Column("password_hash", String(256), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True), nullable=True),
)

refresh_tokens = Table(
    "account_refresh_tokens", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.account_id"), nullable=False),
    Column("family", String(32), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("rotated_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Index("ix_account_refresh_tokens_family", "family"),
)

preferences = Table(
    "account_preferences", metadata,
    Column("account_id", String(64), ForeignKey("accounts.account_id"), primary_key=True),
    Column("notifications", Boolean, nullable=False),
    Column("quiet_start", String(5), nullable=True),
    Column("quiet_end", String(5), nullable=True),
    Column("ev_profile", String(16), nullable=False),
    Column("home_area", String(64), nullable=True),
    Column("work_area", String(64), nullable=True),
    Column("offers_opt_out", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
