"""Story keys rebuilt for fingerprint version 3 (8-word shingles; issue 12).

The index keys of version 2 never equal those of version 3, so without this a copy of a post
stored before the upgrade would not find it and would alert as a story of its own. The posts of
the longest stories window allowed (30 days) get their keys and prints recomputed with the
current code; older rows are left alone (no lookup reads them).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from bot.store.queries import post_from_row
from bot.store.story_index import IndexEntry, fingerprint_or_none, write_index
from bot.store.tables import POST, STORY_KEY, STORY_PRINT

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

LONGEST_WINDOW = timedelta(days=30)  # the most `stories.window` may be
BATCH = 500


def upgrade() -> None:
    connection = op.get_bind()
    start = datetime.now(UTC) - LONGEST_WINDOW
    last = 0
    while True:
        rows = connection.execute(
            sa.select(POST)
            .where(POST.c.id > last, POST.c.seen_at >= start, POST.c.story_id.is_not(None))
            .order_by(POST.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        pks = [row.id for row in rows]
        connection.execute(sa.delete(STORY_KEY).where(STORY_KEY.c.post_pk.in_(pks)))
        connection.execute(sa.delete(STORY_PRINT).where(STORY_PRINT.c.post_pk.in_(pks)))
        write_index(
            connection,
            [
                IndexEntry(
                    row.id, row.story_id, fingerprint_or_none(post_from_row(row)), row.seen_at
                )
                for row in rows
            ],
        )
        last = pks[-1]


def downgrade() -> None:
    """Version 2 keys cannot be rebuilt by this code; the older version recomputes prints of
    another version from their posts, and its keys match again as new posts arrive."""
