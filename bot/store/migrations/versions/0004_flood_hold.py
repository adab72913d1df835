"""Flood holds: Telegram's 429 retry_after, kept across restarts, per chat and for the bot.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "flood_hold",
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", name="pk_flood_hold"),
    )


def downgrade() -> None:
    op.drop_table("flood_hold")
