"""The story index in SQL: look up stored posts sharing an index key, record new ones.

The store keeps one `story_key` row per (key, post) and one `story_print` per post (its
fingerprint, so a candidate need not be fingerprinted again); `bot.stories.index` is the
in-memory model of the same lookup. Session-first, inside the poll's transaction.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.model import Post
from bot.store.queries import chunked, post_from_row
from bot.store.tables import POST, STORY_KEY, STORY_PRINT
from bot.stories.index import MAX_POSTS_PER_KEY
from bot.stories.keys import FINGERPRINT_VERSION, NO_FINGERPRINT, StoryFingerprint, fingerprint
from bot.stories.match import StoryCandidate

log = logging.getLogger(__name__)

# Fingerprints kept per Store, by post id: stored posts never change, and the candidates of a
# lookup are mostly the recent posts this process stored itself. Recomputing them was 80% of
# assignment time on the bench. ~2 KB each, ~7 KB once compared (its word 3-grams are kept for
# the next comparison): at most ~70 MB.
FINGERPRINT_CACHE = 10_000

# Keys per lookup statement: SQLite allows 500 terms in a compound SELECT.
KEYS_PER_LOOKUP = 64


class FingerprintCache:
    """post id -> fingerprint, least recently used dropped first; safe across threads."""

    def __init__(self, size: int = FINGERPRINT_CACHE) -> None:
        self._size = size
        self._items: OrderedDict[int, StoryFingerprint] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, post_pk: int) -> StoryFingerprint | None:
        with self._lock:
            found = self._items.get(post_pk)
            if found is not None:
                self._items.move_to_end(post_pk)
            return found

    def put(self, post_pk: int, fp: StoryFingerprint) -> None:
        with self._lock:
            self._items[post_pk] = fp
            self._items.move_to_end(post_pk)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class IndexEntry(NamedTuple):
    """One post as the story index records it."""

    post_pk: int
    story_id: int
    fp: StoryFingerprint
    seen_at: datetime


def candidates(
    session: Session, keys: Iterable[int], start: datetime, cache: FingerprintCache
) -> list[StoryCandidate]:
    """Stored posts holding any of `keys`, first seen at or after `start`: the newest
    MAX_POSTS_PER_KEY per key, each post once."""
    seen: dict[int, tuple[int, datetime]] = {}  # post pk -> (story, seen_at)
    wanted = sorted(set(keys))
    for at in range(0, len(wanted), KEYS_PER_LOOKUP):
        chunk = list(wanted[at : at + KEYS_PER_LOOKUP])
        chunk += [chunk[-1]] * (KEYS_PER_LOOKUP - len(chunk))  # one statement shape: cached
        rows = session.execute(_newest_holders(), {"start": start, **_key_params(chunk)})
        seen.update((pk, (story, seen_at)) for pk, story, seen_at in rows)
    found: list[StoryCandidate] = []
    missing: list[int] = []
    for post_pk in sorted(seen):
        fp = cache.get(post_pk)
        if fp is None:
            missing.append(post_pk)
        else:
            story, seen_at = seen[post_pk]
            found.append(StoryCandidate(story, fp, seen_at))
    for post_pk, fp in _load_prints(session, missing).items():
        cache.put(post_pk, fp)
        story, seen_at = seen[post_pk]
        found.append(StoryCandidate(story, fp, seen_at))
    return found


def _load_prints(session: Session, post_pks: Sequence[int]) -> dict[int, StoryFingerprint]:
    """Stored fingerprints; recomputed from the post where missing or of an older version."""
    prints: dict[int, StoryFingerprint] = {}
    for chunk in chunked(post_pks):
        stmt = sa.select(STORY_PRINT).where(
            STORY_PRINT.c.post_pk.in_(chunk), STORY_PRINT.c.version == FINGERPRINT_VERSION
        )
        for row in session.execute(stmt):
            prints[row.post_pk] = StoryFingerprint(
                row.text, tuple(row.urls), tuple(row.keys), tuple(row.starts)
            )
    stale = [pk for pk in post_pks if pk not in prints]
    for chunk in chunked(stale):
        for row in session.execute(sa.select(POST).where(POST.c.id.in_(chunk))):
            prints[row.id] = fingerprint_or_none(post_from_row(row))
    return prints


def fingerprint_or_none(post: Post) -> StoryFingerprint:
    """`fingerprint(post)`, or NO_FINGERPRINT when that fails: the post is then a story of its
    own, still stored, instead of failing the poll's whole transaction (issue 9)."""
    try:
        return fingerprint(post)
    except Exception:  # contained per post; a bug, so logged with its traceback
        log.exception(
            "post %r of %s: no fingerprint; it is a story of its own",
            post.post_id[:200],
            post.source_id,
        )
        return NO_FINGERPRINT


@lru_cache(maxsize=1)
def _newest_holders() -> sa.CompoundSelect[Any]:
    """Per key, its newest MAX_POSTS_PER_KEY rows since :start: each an index range scan
    read backwards on (key, seen_at), so a key held by thousands of posts costs no more than
    one held by a few (a window function would sort them all)."""
    parts = []
    for n in range(KEYS_PER_LOOKUP):
        newest = (
            sa.select(STORY_KEY.c.post_pk, STORY_KEY.c.story_id, STORY_KEY.c.seen_at)
            .where(STORY_KEY.c.key == sa.bindparam(f"k{n}"))
            .where(STORY_KEY.c.seen_at >= sa.bindparam("start"))
            .order_by(STORY_KEY.c.seen_at.desc())
            .limit(MAX_POSTS_PER_KEY)
            .subquery()
        )
        parts.append(sa.select(newest))
    return sa.union_all(*parts)


def _key_params(keys: Sequence[int]) -> dict[str, int]:
    return {f"k{n}": key for n, key in enumerate(keys)}


def _same(value: datetime) -> datetime:
    return value


# story_key rows as the driver takes them: SQLite's qmark style, psycopg's format style.
_INSERT_KEYS = {
    True: "INSERT INTO story_key (key, seen_at, post_pk, story_id) VALUES (?, ?, ?, ?)",
    False: "INSERT INTO story_key (key, seen_at, post_pk, story_id) VALUES (%s, %s, %s, %s)",
}


def write_index(db: Session | sa.Connection, entries: Sequence[IndexEntry]) -> None:
    """Record posts in the story index: one `story_key` row per key, one `story_print`."""
    connection = db.connection() if isinstance(db, Session) else db
    dialect = connection.dialect
    processor = STORY_KEY.c.seen_at.type.bind_processor(dialect)
    to_db: Callable[[datetime], Any] = processor if processor is not None else _same
    keys = [
        (key, seen_at, e.post_pk, e.story_id)
        for e in entries
        for seen_at in (to_db(e.seen_at),)  # once a post, not once a key
        for key in e.fp.keys
    ]
    if keys:
        # Driver-level executemany (issue 12): ~15 rows a post, and SQLAlchemy's per-row
        # parameter processing cost more than the inserts themselves.
        connection.exec_driver_sql(_INSERT_KEYS[dialect.paramstyle == "qmark"], keys)
    prints = [
        {
            "post_pk": e.post_pk,
            "version": FINGERPRINT_VERSION,
            "text": e.fp.text,
            "urls": list(e.fp.urls),
            "starts": list(e.fp.starts),
            "keys": list(e.fp.keys),
        }
        for e in entries
    ]
    if prints:
        db.execute(sa.insert(STORY_PRINT), prints)
