"""The ledger: chains, signing keys, hash-chained entries, trades, postings, certificates, anchors.

Revision ID: 0001_ledger
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_ledger"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ledger_chains",
        sa.Column("chain", sa.String(32), primary_key=True),
        sa.Column("head_seq", sa.BigInteger, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "ledger_keys",
        sa.Column("key_id", sa.String(16), primary_key=True),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("chain", sa.String(32), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(160), nullable=False),
        sa.Column("slot", TS),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128)),
        sa.Column("key_id", sa.String(16)),
        sa.UniqueConstraint("kind", "ref", name="uq_ledger_entries_kind_ref"),
    )
    op.create_index("ix_ledger_entries_slot", "ledger_entries", ["chain", "kind", "slot"])
    op.create_table(
        "ledger_trades",
        sa.Column("trade_id", sa.String(128), primary_key=True),
        sa.Column("chain", sa.String(32), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("slot", TS, nullable=False),
        sa.Column("seller", sa.String(64), nullable=False),
        sa.Column("buyer", sa.String(64), nullable=False),
        sa.Column("wh", sa.BigInteger, nullable=False),
        sa.Column("price_sen", sa.BigInteger, nullable=False),
        sa.Column("wheeling_sen", sa.BigInteger, nullable=False),
        sa.Column("energy_sen", sa.BigInteger, nullable=False),
        sa.Column("tier", sa.String(8), nullable=False),
        sa.Column("renewable", sa.Boolean, nullable=False),
        sa.Column("seller_site", sa.String(64)),
        sa.Column("buyer_site", sa.String(64)),
    )
    op.create_index("ix_ledger_trades_seller", "ledger_trades", ["seller"])
    op.create_index("ix_ledger_trades_buyer", "ledger_trades", ["buyer"])
    op.create_index("ix_ledger_trades_slot", "ledger_trades", ["slot"])
    op.create_table(
        "ledger_postings",
        sa.Column("chain", sa.String(32), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("account", sa.String(100), nullable=False),
        sa.Column("commodity", sa.String(8), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("slot", TS, nullable=False),
    )
    op.create_index("ix_ledger_postings_account", "ledger_postings", ["account", "commodity"])
    op.create_table(
        "ledger_certificates",
        sa.Column("cert_id", sa.String(160), primary_key=True),
        sa.Column("trade_id", sa.String(128), nullable=False),
        sa.Column("slot", TS, nullable=False),
        sa.Column("source_participant", sa.String(64), nullable=False),
        sa.Column("source_site", sa.String(64)),
        sa.Column("wh", sa.BigInteger, nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("issued_seq", sa.BigInteger, nullable=False),
        sa.Column("retired_seq", sa.BigInteger),
        sa.Column("retired_target", sa.String(128)),
    )
    op.create_index("ix_ledger_certificates_owner", "ledger_certificates", ["owner"])
    op.create_table(
        "ledger_anchors",
        sa.Column("chain", sa.String(32), primary_key=True),
        sa.Column("slot", TS, primary_key=True),
        sa.Column("entries", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("merkle_root", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in ("ledger_anchors", "ledger_certificates", "ledger_postings", "ledger_trades",
                  "ledger_entries", "ledger_keys", "ledger_chains"):
        op.drop_table(table)
