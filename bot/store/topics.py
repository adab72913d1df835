"""Session-first queries behind `postwatch topics`: stored posts to test a query on, match
counts per topic and time window, and matching a new or changed topic against stored posts.

A post's time is when it was published, else when it was first seen: the same clock
`export --since` uses, so the windows of `topics test`, `topics list` and `export` agree.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.model import Post, TopicMatch
from bot.store.queries import dialect_insert, post_from_row
from bot.store.tables import MATCH, POST

# Rows per round trip while streaming posts: memory stays flat however large the table is.
POST_BATCH = 500


def post_time() -> Any:
    return sa.func.coalesce(POST.c.published_at, POST.c.seen_at)


def recent_posts(
    session: Session, since: datetime, batch: int = POST_BATCH
) -> Iterator[tuple[Post, datetime]]:
    """Posts whose time is `since` or later, newest first, each with that time."""
    when = post_time().label("post_time")
    stmt = (
        sa.select(POST, when)
        .where(when >= since)
        .order_by(when.desc(), POST.c.id.desc())
        .execution_options(yield_per=batch)
    )
    for rows in session.execute(stmt).partitions():
        for row in rows:
            yield post_from_row(row), row.post_time


def match_counts(session: Session, windows: Sequence[datetime]) -> dict[str, tuple[int, ...]]:
    """topic id -> how many stored matches have a post time at or after each of `windows`.

    One grouped query over the matches of the widest window, whatever the number of topics.
    """
    if not windows:
        return {}
    when = post_time()
    counts = [sa.func.sum(sa.case((when >= start, 1), else_=0)) for start in windows]
    stmt = (
        sa.select(MATCH.c.topic_id, *counts)
        .select_from(MATCH.join(POST, POST.c.id == MATCH.c.post_pk))
        .where(when >= min(windows))
        .group_by(MATCH.c.topic_id)
    )
    return {row[0]: tuple(int(n or 0) for n in row[1:]) for row in session.execute(stmt)}


def scan_matches(
    session: Session,
    since: datetime,
    match: Callable[[Post], Sequence[TopicMatch]],
    batch: int = POST_BATCH,
) -> tuple[list[int], list[dict[str, object]]]:
    """Every post whose time is `since` or later, through `match`: (their ids, match rows)."""
    when = post_time().label("post_time")
    stmt = sa.select(POST).where(when >= since).execution_options(yield_per=batch)
    scanned: list[int] = []
    rows: list[dict[str, object]] = []
    for chunk in session.execute(stmt).partitions():
        for row in chunk:
            scanned.append(row.id)
            rows += [
                {"post_pk": row.id, "topic_id": m.topic_id, "terms": list(m.terms)}
                for m in match(post_from_row(row))
            ]
    return scanned, rows


def replace_matches(
    session: Session,
    topic_ids: Collection[str],
    post_pks: Sequence[int],
    rows: Sequence[Mapping[str, object]],
) -> None:
    """The matches of `topic_ids` on `post_pks` become `rows` (posts stored since the scan keep
    what the running watchlist gave them)."""
    for start in range(0, len(post_pks), POST_BATCH):
        chunk = post_pks[start : start + POST_BATCH]
        session.execute(
            sa.delete(MATCH).where(
                MATCH.c.topic_id.in_(list(topic_ids)), MATCH.c.post_pk.in_(chunk)
            )
        )
    for start in range(0, len(rows), POST_BATCH):
        session.execute(
            dialect_insert(session, MATCH).on_conflict_do_nothing(),
            params=list(rows[start : start + POST_BATCH]),
        )
