"""The ledger's tables as SQLAlchemy Core metadata (queries use these; migrations create them).

Quantities are integers — sen for money, Wh for energy, sen/kWh for prices — so PostgreSQL and SQLite
store them exactly. Entry bodies are the canonical JSON that was hashed.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

chains = Table(
    "ledger_chains", metadata,
    Column("chain", String(32), primary_key=True),
    Column("head_seq", BigInteger, nullable=False),
    Column("head_hash", String(64), nullable=False),
)

keys = Table(
    "ledger_keys", metadata,
    Column("key_id", String(16), primary_key=True),
    Column("public_key", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

entries = Table(
    "ledger_entries", metadata,
    Column("chain", String(32), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("ref", String(160), nullable=False),
    Column("slot", DateTime(timezone=True)),
    Column("body", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("signature", String(128)),
    Column("key_id", String(16)),
    UniqueConstraint("kind", "ref", name="uq_ledger_entries_kind_ref"),
    Index("ix_ledger_entries_slot", "chain", "kind", "slot"),
)

trades = Table(
    "ledger_trades", metadata,
    Column("trade_id", String(128), primary_key=True),
    Column("chain", String(32), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("slot", DateTime(timezone=True), nullable=False),
    Column("seller", String(64), nullable=False),
    Column("buyer", String(64), nullable=False),
    Column("wh", BigInteger, nullable=False),
    Column("price_sen", BigInteger, nullable=False),
    Column("wheeling_sen", BigInteger, nullable=False),
    Column("energy_sen", BigInteger, nullable=False),
    Column("tier", String(8), nullable=False),
    Column("renewable", Boolean, nullable=False),
    Column("seller_site", String(64)),
    Column("buyer_site", String(64)),
    Index("ix_ledger_trades_seller", "seller"),
    Index("ix_ledger_trades_buyer", "buyer"),
    Index("ix_ledger_trades_slot", "slot"),
)

postings = Table(
    "ledger_postings", metadata,
    Column("chain", String(32), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("account", String(100), nullable=False),
    Column("commodity", String(8), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("slot", DateTime(timezone=True), nullable=False),
    Index("ix_ledger_postings_account", "account", "commodity"),
)

certificates = Table(
    "ledger_certificates", metadata,
    Column("cert_id", String(160), primary_key=True),
    Column("trade_id", String(128), nullable=False),
    Column("slot", DateTime(timezone=True), nullable=False),
    Column("source_participant", String(64), nullable=False),
    Column("source_site", String(64)),
    Column("wh", BigInteger, nullable=False),
    Column("owner", String(64), nullable=False),
    Column("issued_seq", BigInteger, nullable=False),
    Column("retired_seq", BigInteger),
    Column("retired_target", String(128)),
    Index("ix_ledger_certificates_owner", "owner"),
)

anchors = Table(
    "ledger_anchors", metadata,
    Column("chain", String(32), primary_key=True),
    Column("slot", DateTime(timezone=True), primary_key=True),
    Column("entries", BigInteger, primary_key=True, autoincrement=False),
    Column("merkle_root", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
)
