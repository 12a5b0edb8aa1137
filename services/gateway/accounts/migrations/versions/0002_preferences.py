"""Preferences per account (notifications, quiet hours, EV profile, areas, offers).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_preferences",
        sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.account_id"), primary_key=True),
        sa.Column("notifications", sa.Boolean, nullable=False),
        sa.Column("quiet_start", sa.String(5), nullable=True),
        sa.Column("quiet_end", sa.String(5), nullable=True),
        sa.Column("ev_profile", sa.String(16), nullable=False),
        sa.Column("home_area", sa.String(64), nullable=True),
        sa.Column("work_area", sa.String(64), nullable=True),
        sa.Column("offers_opt_out", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("account_preferences")
