"""The Store: the one object the rest of postwatch uses to persist and read.

Methods are synchronous and each runs in its own Session (its own transaction) on a pooled
Engine, so the async app can call them from worker threads via `asyncio.to_thread`.

The Session is SQLAlchemy's own: the queries are Core statements on the SQLModel tables (batched
`INSERT ... ON CONFLICT`, bulk updates), which `sqlmodel.Session.exec` does not type.
"""

from __future__ import annotations

import contextlib
import functools
import random
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.errors import StoreError
from bot.model import (
    AlertIntent,
    ExportRow,
    OutboxItem,
    Post,
    SavedPoll,
    SentMessage,
    SourceState,
    StorySummary,
    TopicMatch,
)
from bot.store import outbox, queries, stories, story_index, topics
from bot.store.delivery import DeliveryStore
from bot.store.engine import error_reason, is_busy, masked, open_engine
from bot.store.queries import PostKey
from bot.stories.keys import StoryFingerprint
from bot.stories.match import DEFAULT_THRESHOLD, DEFAULT_WINDOW

# The database's own trouble, not ours: locked (SQLite's busy_timeout ran out), gone or
# restarting, a pool or statement timeout, a deadlock or serialization failure (PostgreSQL
# raises those as OperationalError). Anything else from a query is our bug and propagates.
DATABASE_TROUBLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)
# Posts per poll transaction. A chunk with its matches, stories and alerts commits in well under
# a second on a 2-core machine (bench/bench_ingest.py), so another writer never waits near
# SQLite's 15 s busy_timeout, however large the poll (issue 12: one of 2,000 posts did).
POLL_CHUNK = 250
STATE_ROWS = 1000  # source states per transaction when written in a batch
# Seconds before trying a locked write again (each doubled at most by jitter), then StoreError.
BUSY_PAUSES = (0.05, 0.25, 1.0)
T = TypeVar("T")


class Store(DeliveryStore):
    """Sources, posts and export here; the delivery side (lease, claims, edits, channel facts,
    stats) in `DeliveryStore`."""

    def __init__(self, engine: Engine) -> None:
        """Use `Store.open`; this takes an engine that is already migrated."""
        self._engine = engine
        self._fingerprints = story_index.FingerprintCache()
        # SQLite has one writer at a time. Polls in several threads waiting on its lock each
        # sleep in its busy handler (up to 100 ms a try) and wake late; waiting here instead
        # hands the lock on the moment it is free.
        self._one_writer = (
            threading.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )

    @classmethod
    def open(cls, url: str, *, create: bool = True) -> Store:
        """Connect and migrate to the newest schema. StoreError (password masked) on failure;
        with `create=False`, also when there is no postwatch database there yet."""
        return cls(open_engine(url, create=create))

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({masked(self._engine.url)!r})"

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self._engine.dialect.name

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """A Session committed on success and rolled back on any exception."""
        with Session(self._engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def _poll_transaction(self) -> Iterator[Session]:
        """`_transaction` for the poll's methods, the database's own trouble raised as
        StoreError: the poll then knows the transaction rolled back and nothing was written.
        (Delivery catches SQLAlchemy's errors itself and keeps `_transaction`.)"""
        try:
            with self._transaction() as session:
                yield session
        except DATABASE_TROUBLE as exc:
            raise StoreError(f"database error: {error_reason(exc, self._engine.url)}") from exc

    def _write(self, work: Callable[[Session], T]) -> T:
        """`work` in one `_poll_transaction`, tried again while the only trouble is another
        writer holding the lock (SQLite answers "database is locked" at once, without waiting,
        when a reader's snapshot went stale): the transaction rolled back, so trying again
        loses and doubles nothing. StoreError once the tries are spent, or for other trouble."""
        for pause in (*BUSY_PAUSES, None):
            try:
                with self._one_writer, self._poll_transaction() as session:
                    return work(session)
            except StoreError as exc:
                if pause is None or not is_busy(exc.__cause__ or exc):
                    raise
                time.sleep(pause * (1 + random.random()))  # noqa: S311 - jitter, not secrecy
        raise AssertionError("unreachable: the last pause re-raises")

    def load_states(self) -> dict[str, SourceState]:
        """Every source's state. StoreError when the database is in trouble."""
        with self._poll_transaction() as session:
            return queries.load_states(session)

    def load_state(self, source_id: str) -> SourceState:
        """One source's state (a blank one before its first poll): one indexed row, whatever
        the number of sources. StoreError when the database is in trouble."""
        with self._poll_transaction() as session:
            return queries.load_state(session, source_id) or SourceState(source_id)

    def save_state(self, state: SourceState, polled_at: datetime) -> None:
        """Record a poll that stored no posts (a failure or a 304). StoreError as above."""
        self.save_states([(state, polled_at)])

    def save_states(self, states: Sequence[tuple[SourceState, datetime]]) -> None:
        """Record several polls that stored no posts, STATE_ROWS per transaction; a row
        already polled later is kept (`queries.upsert_states`). StoreError as above."""
        for chunk in queries.chunked(states, STATE_ROWS):
            self._write(functools.partial(queries.upsert_states, states=chunk))

    def reset_backoff(self, source_ids: Sequence[str]) -> None:
        """Forget these sources' failures and backoff (their config changed: a fixed URL
        deserves a poll now, not after hours)."""
        with self._poll_transaction() as session:
            queries.reset_backoff(session, source_ids)

    def known_post_ids(self, source_id: str, post_ids: Sequence[str]) -> set[str]:
        with self._poll_transaction() as session:
            return queries.known_post_ids(session, source_id, post_ids)

    def save_poll(
        self,
        state: SourceState,
        posts: Sequence[Post],
        matches: Mapping[tuple[str, str], Sequence[TopicMatch]],
        alerts: Sequence[AlertIntent],
        now: datetime,
        *,
        story_window: timedelta = DEFAULT_WINDOW,
        story_threshold: float = DEFAULT_THRESHOLD,
        fingerprints: Mapping[PostKey, StoryFingerprint] | None = None,
    ) -> SavedPoll:
        """The new state, the posts not stored yet with their stories and matches, and one
        outbox row per (story, channel) for the alerts of exactly those posts (a copy of a story
        already alerted there adds its name to that alert instead; see `bot.store.stories`). A
        post another poll stored first is skipped with its matches and alerts. `fingerprints`
        (by post key) spares computing them inside the transaction.

        Posts go in chunks of POLL_CHUNK, one transaction each, so no poll holds the write lock
        for long, however many posts it brings; the state goes with the last chunk. A chunk
        carries its posts' alerts, so a stop between chunks leaves stored posts with their
        alerts and the state not advanced: the next poll fetches again and stores the rest.
        StoreError when the database is in trouble: the chunk it failed in wrote nothing."""
        given = fingerprints or {}

        def work(session: Session, chunk: Sequence[Post], last: bool) -> Any:
            if last:
                queries.upsert_state(session, state, now)
            inserted = queries.insert_posts(session, chunk, now)
            stored = queries.inserted_in_order(chunk, inserted)
            queries.insert_matches(session, inserted, matches)
            assigned = stories.assign_stories(
                session,
                stored,
                inserted,
                now,
                window=story_window,
                threshold=story_threshold,
                cache=self._fingerprints,
                fingerprints=given,
            )
            outcome = stories.insert_story_alerts(
                session,
                alerts,
                posts=stored,
                post_pks=inserted,
                story_of=assigned.story_of,
                now=now,
            )
            return stored, assigned, outcome

        chunks = list(queries.chunked(posts, POLL_CHUNK)) or [[]]
        saved: list[Post] = []
        created = joined = 0
        for number, chunk in enumerate(chunks, start=1):
            stored, assigned, outcome = self._write(
                functools.partial(work, chunk=chunk, last=number == len(chunks))
            )
            for post_pk, fp in assigned.fingerprints.items():  # committed: now safe to cache
                self._fingerprints.put(post_pk, fp)
            saved.extend(stored)
            created, joined = created + outcome.created, joined + outcome.joined
        return SavedPoll(saved, alerts=created, joined=joined)

    def pending_alerts(self, now: datetime, limit: int = 100) -> list[OutboxItem]:
        with self._transaction() as session:
            return outbox.pending_alerts(session, now, limit)

    def mark_sent(self, alert_id: int, message_id: int | None, sent_at: datetime) -> None:
        self.record_sent([alert_id], SentMessage(message_id, ""), sent_at)

    def mark_retry(self, alert_id: int, error: str, next_attempt_at: datetime) -> None:
        """Count a failed attempt; the alert stays pending until `next_attempt_at`."""
        with self._transaction() as session:
            outbox.mark_retry(session, alert_id, error, next_attempt_at)

    def mark_failed(self, alert_id: int, error: str, now: datetime) -> None:
        """Give up on an alert for good (chat gone, bot removed, channel unconfigured)."""
        with self._transaction() as session:
            outbox.mark_failed(session, alert_id, error, now)

    def outbox_counts(self) -> dict[str, int]:
        with self._transaction() as session:
            return outbox.outbox_counts(session)

    def export_posts(
        self, since: datetime | None = None, topic_id: str | None = None
    ) -> Iterator[ExportRow]:
        """Stream stored posts oldest first; holds one connection until exhausted or closed."""
        with self._transaction() as session:
            yield from queries.export_rows(session, since, topic_id)

    def recent_posts(self, since: datetime) -> Iterator[tuple[Post, datetime]]:
        """Stream posts published (else first seen) at or after `since`, newest first, each
        with that time; holds one connection until exhausted or closed."""
        with self._transaction() as session:
            yield from topics.recent_posts(session, since)

    def rematch(
        self,
        topic_ids: Collection[str],
        since: datetime,
        match: Callable[[Post], Sequence[TopicMatch]],
    ) -> int:
        """Match `topic_ids` (just added or changed) against the posts stored since `since`,
        replacing what they matched there before; no alerts. How many matches it stored. The
        scan only reads; the write that follows is short (other writers are not held up)."""
        with self._poll_transaction() as session:
            scanned, rows = topics.scan_matches(session, since, match)
        with self._poll_transaction() as session:
            topics.replace_matches(session, topic_ids, scanned, rows)
        return len(rows)

    def topic_match_counts(self, windows: Sequence[datetime]) -> dict[str, tuple[int, ...]]:
        """topic id -> its stored matches whose post time is at or after each of `windows`."""
        with self._transaction() as session:
            return topics.match_counts(session, windows)

    def stories(
        self, since: datetime, topic_id: str | None = None, min_posts: int = 1, limit: int = 50
    ) -> list[StorySummary]:
        """Stories first seen at or after `since`, newest first, each with its posts."""
        with self._transaction() as session:
            return stories.list_stories(session, since, topic_id, min_posts, limit)
