"""Stories: each post's story, the story index and fingerprints, one alert per (story, channel).

A story's id is the primary key of the post that started it. Posts stored before this revision
each start their own story; the index holds only posts stored after it.

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("post") as batch:
        batch.add_column(sa.Column("story_id", sa.Integer(), nullable=True))
    op.execute("UPDATE post SET story_id = id")
    op.create_index("ix_post_story_id", "post", ["story_id"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("story_id", sa.Integer(), nullable=True))
    op.execute("UPDATE outbox SET story_id = post_pk")
    # A unique index rather than a constraint: SQLite adds one without copying the table, and
    # INSERT ... ON CONFLICT honours either.
    op.create_index(
        "uq_outbox_story_id_channel_id", "outbox", ["story_id", "channel_id"], unique=True
    )
    op.create_table(
        "story_key",
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("seen_at", UTC_DATETIME, nullable=False),
        sa.Column("post_pk", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_pk"], ["post.id"], name="fk_story_key_post_pk_post", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key", "seen_at", "post_pk", name="pk_story_key"),
    )
    op.create_table(
        "story_print",
        sa.Column("post_pk", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("urls", sa.JSON(), nullable=False),
        sa.Column("starts", sa.JSON(), nullable=False),
        sa.Column("keys", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_pk"], ["post.id"], name="fk_story_print_post_pk_post", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_pk", name="pk_story_print"),
    )


def downgrade() -> None:
    op.drop_table("story_print")
    op.drop_table("story_key")
    op.drop_index("uq_outbox_story_id_channel_id", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("story_id")
    op.drop_index("ix_post_story_id", table_name="post")
    with op.batch_alter_table("post") as batch:
        batch.drop_column("story_id")
