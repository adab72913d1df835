"""Delivery: outbox send state, edits and latency; channel facts; the delivery lease.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

# Written out rather than imported from bot.store.tables: a migration is a frozen record.
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Adding columns needs no table copy on SQLite; batch mode decides that by itself.
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("ambiguous", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("strikes", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("sending_at", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("chat_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("delivered_as", sa.Text(), nullable=True))
        batch.add_column(sa.Column("latency_ms", sa.BigInteger(), nullable=True))
        batch.add_column(
            sa.Column("also_posted_by", sa.JSON(), nullable=False, server_default="[]")
        )
        batch.add_column(sa.Column("edit_due_at", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("edited_at", UTC_DATETIME, nullable=True))
    op.create_index("ix_outbox_edit_due_at", "outbox", ["edit_due_at"])
    op.create_table(
        "channel",
        sa.Column("channel_id", sa.Text(), nullable=False),
        sa.Column("config_chat", sa.Text(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("disabled_at", UTC_DATETIME, nullable=True),
        sa.Column("admins_told_at", UTC_DATETIME, nullable=True),
        sa.Column("last_digest_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("channel_id", name="pk_channel"),
    )
    op.create_table(
        "lease",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("acquired_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_lease"),
    )


def downgrade() -> None:
    op.drop_table("lease")
    op.drop_table("channel")
    op.drop_index("ix_outbox_edit_due_at", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        for column in (
            "edited_at",
            "edit_due_at",
            "also_posted_by",
            "latency_ms",
            "delivered_as",
            "chat_id",
            "sending_at",
            "strikes",
            "ambiguous",
        ):
            batch.drop_column(column)
