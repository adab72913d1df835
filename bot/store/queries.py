"""Session-first queries for sources and posts: state, dedup, the poll transaction, export.

Each function takes an open Session and leaves committing to the caller, so `Store.save_poll`
can put several of them in one transaction. Rows in, plain `bot.model` values out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.model import ExportRow, Post, SourceState, TopicMatch
from bot.store.tables import MATCH, POST, SOURCE_STATE

# Ids per `IN (...)` list: under SQLite's historic 999-variable limit, so any build is fine.
IN_CHUNK = 900
# Rows fetched per round trip when streaming an export.
EXPORT_BATCH = 500
# Error texts are for people reading status output; a whole HTML error page is not.
MAX_ERROR_CHARS = 1000

PostKey = tuple[str, str]
T = TypeVar("T")


def clip_error(error: str | None) -> str | None:
    return None if error is None else error[:MAX_ERROR_CHARS]


def chunked(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def dialect_insert(session: Session, table: sa.Table) -> Any:
    """`INSERT` with `ON CONFLICT` support: SQLModel has no upsert, both dialects do."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def load_states(session: Session) -> dict[str, SourceState]:
    rows = session.execute(sa.select(SOURCE_STATE))
    return {row.source_id: _state(row) for row in rows}


def reset_backoff(session: Session, source_ids: Sequence[str]) -> None:
    session.execute(
        sa.update(SOURCE_STATE)
        .where(SOURCE_STATE.c.source_id.in_(list(source_ids)))
        .values(failures=0, next_poll_at=None)
    )


def load_state(session: Session, source_id: str) -> SourceState | None:
    row = session.execute(
        sa.select(SOURCE_STATE).where(SOURCE_STATE.c.source_id == source_id)
    ).first()
    return None if row is None else _state(row)


def upsert_state(session: Session, state: SourceState, polled_at: datetime) -> None:
    upsert_states(session, [(state, polled_at)])


def upsert_states(session: Session, states: Sequence[tuple[SourceState, datetime]]) -> None:
    """Write these (state, polled at) pairs in one executemany. A row polled later than the one
    given is left alone: a batch written behind (bot.store.state_book) never undoes a newer
    poll's state that a poll transaction wrote in the meantime."""
    if not states:
        return
    rows = [
        {
            "source_id": state.source_id,
            "etag": state.etag,
            "last_modified": state.last_modified,
            "cursor": dict(state.cursor),
            "baseline_done": state.baseline_done,
            "failures": state.failures,
            "last_error": clip_error(state.last_error),
            "next_poll_at": state.next_poll_at,
            "last_polled_at": polled_at,
        }
        for state, polled_at in states
    ]
    stmt = dialect_insert(session, SOURCE_STATE)
    polled = SOURCE_STATE.c.last_polled_at
    stmt = stmt.on_conflict_do_update(
        index_elements=["source_id"],
        set_={name: stmt.excluded[name] for name in rows[0] if name != "source_id"},
        where=sa.or_(polled.is_(None), polled <= stmt.excluded.last_polled_at),
    )
    session.execute(stmt, rows)


def known_post_ids(session: Session, source_id: str, post_ids: Sequence[str]) -> set[str]:
    known: set[str] = set()
    for chunk in chunked(list(dict.fromkeys(post_ids))):
        stmt = sa.select(POST.c.post_id).where(
            POST.c.source_id == source_id, POST.c.post_id.in_(chunk)
        )
        known.update(session.execute(stmt).scalars())
    return known


def insert_posts(session: Session, posts: Sequence[Post], seen_at: datetime) -> dict[PostKey, int]:
    """Insert the posts not stored yet; the primary key of each one actually inserted.

    One `INSERT ... ON CONFLICT DO NOTHING RETURNING` executed over all rows; SQLAlchemy pages it
    into multi-row statements under the driver's parameter limit. Rows go in key order: two
    writers of overlapping posts then lock them in the same order and cannot deadlock (today the
    state upsert before this already makes polls of one source take turns).
    """
    unique = {post.key: post for post in reversed(posts)}  # the first of repeated keys wins
    if not unique:
        return {}
    rows = [_post_values(unique[key], seen_at) for key in sorted(unique)]
    stmt = (
        dialect_insert(session, POST)
        .on_conflict_do_nothing(index_elements=["source_id", "post_id"])
        .returning(POST.c.id, POST.c.source_id, POST.c.post_id)
    )
    result = session.execute(stmt, params=rows)
    return {(row.source_id, row.post_id): row.id for row in result}


def insert_matches(
    session: Session,
    post_pks: Mapping[PostKey, int],
    matches: Mapping[PostKey, Sequence[TopicMatch]],
) -> None:
    rows = [
        {"post_pk": pk, "topic_id": match.topic_id, "terms": list(match.terms)}
        for key, pk in post_pks.items()
        for match in matches.get(key, ())
    ]
    if rows:
        stmt = dialect_insert(session, MATCH).on_conflict_do_nothing()
        session.execute(stmt, params=rows)


def inserted_in_order(posts: Sequence[Post], inserted: Mapping[PostKey, int]) -> list[Post]:
    """The posts `insert_posts` stored, in input order: the first of repeated keys."""
    stored: list[Post] = []
    left = set(inserted)
    for post in posts:
        if post.key in left:
            left.discard(post.key)
            stored.append(post)
    return stored


def export_rows(
    session: Session, since: datetime | None, topic_id: str | None
) -> Iterator[ExportRow]:
    """Posts oldest first by publication (or first sighting), streamed in batches."""
    when = sa.func.coalesce(POST.c.published_at, POST.c.seen_at)
    stmt = sa.select(POST).order_by(when, POST.c.id)
    if since is not None:
        stmt = stmt.where(when >= since)
    if topic_id is not None:
        stmt = stmt.where(
            POST.c.id.in_(sa.select(MATCH.c.post_pk).where(MATCH.c.topic_id == topic_id))
        )
    result = session.execute(stmt.execution_options(yield_per=EXPORT_BATCH))
    for batch in result.partitions():
        terms = terms_by_post(session, [row.id for row in batch])
        for row in batch:
            fired = terms.get(row.id, {})
            yield ExportRow(
                source=row.source_id,
                id=row.post_id,
                url=row.url,
                author=row.author,
                title=row.title,
                text=row.text,
                published_at=row.published_at,
                topics=tuple(fired),
                terms=fired,
                story=row.story_id,
            )


def terms_by_post(
    session: Session, post_pks: Sequence[int]
) -> dict[int, dict[str, tuple[str, ...]]]:
    """post pk -> {topic id: terms that fired}, topics in id order."""
    terms: dict[int, dict[str, tuple[str, ...]]] = {}
    for row in match_rows(session, post_pks):
        terms.setdefault(row.post_pk, {})[row.topic_id] = tuple(row.terms)
    return terms


def match_rows(session: Session, post_pks: Sequence[int]) -> Iterable[sa.Row[Any]]:
    for chunk in chunked(post_pks):
        stmt = (
            sa.select(MATCH)
            .where(MATCH.c.post_pk.in_(chunk))
            .order_by(MATCH.c.post_pk, MATCH.c.topic_id)
        )
        yield from session.execute(stmt)


def post_from_row(row: sa.Row[Any]) -> Post:
    return Post(
        source_id=row.source_id,
        post_id=row.post_id,
        text=row.text,
        url=row.url,
        author=row.author,
        title=row.title,
        published_at=row.published_at,
        lang=row.lang,
        image_url=row.image_url,
    )


def _post_values(post: Post, seen_at: datetime) -> dict[str, Any]:
    return {
        "source_id": post.source_id,
        "post_id": post.post_id,
        "url": post.url,
        "author": post.author,
        "title": post.title,
        "text": post.text,
        "published_at": post.published_at,
        "lang": post.lang,
        "image_url": post.image_url,
        "seen_at": seen_at,
    }


def _state(row: sa.Row[Any]) -> SourceState:
    return SourceState(
        source_id=row.source_id,
        etag=row.etag,
        last_modified=row.last_modified,
        cursor=dict(row.cursor),
        baseline_done=row.baseline_done,
        failures=row.failures,
        last_error=row.last_error,
        next_poll_at=row.next_poll_at,
    )
