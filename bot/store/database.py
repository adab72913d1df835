"""The Store: the one object the rest of postwatch uses to persist and read.

Methods are synchronous and each runs in its own Session (its own transaction) on a pooled
Engine, so the async app can call them from worker threads via `asyncio.to_thread`.

The Session is SQLAlchemy's own: the queries are Core statements on the SQLModel tables (batched
`INSERT ... ON CONFLICT`, bulk updates), which `sqlmodel.Session.exec` does not type.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

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
from bot.store.engine import error_reason, masked, open_engine
from bot.store.queries import PostKey
from bot.stories.keys import StoryFingerprint
from bot.stories.match import DEFAULT_THRESHOLD, DEFAULT_WINDOW

# The database's own trouble, not ours: locked (SQLite's busy_timeout ran out), gone or
# restarting, a pool or statement timeout, a deadlock or serialization failure (PostgreSQL
# raises those as OperationalError). Anything else from a query is our bug and propagates.
DATABASE_TROUBLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)


class Store(DeliveryStore):
    """Sources, posts and export here; the delivery side (lease, claims, edits, channel facts,
    stats) in `DeliveryStore`."""

    def __init__(self, engine: Engine) -> None:
        """Use `Store.open`; this takes an engine that is already migrated."""
        self._engine = engine
        self._fingerprints = story_index.FingerprintCache()

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

    def load_states(self) -> dict[str, SourceState]:
        """Every source's state. StoreError when the database is in trouble."""
        with self._poll_transaction() as session:
            return queries.load_states(session)

    def save_state(self, state: SourceState, polled_at: datetime) -> None:
        """Record a poll that stored no posts (a failure or a 304). StoreError as above."""
        with self._poll_transaction() as session:
            queries.upsert_state(session, state, polled_at)

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
        """One transaction: the new state, the posts not stored yet with their stories and
        matches, and one outbox row per (story, channel) for the alerts of exactly those posts
        (a copy of a story already alerted there adds its name to that alert instead; see
        `bot.store.stories`). A post another poll stored first is skipped with its matches and
        alerts. `fingerprints` (by post key) spares computing them inside the transaction.
        StoreError when the database is in trouble: then nothing at all was written."""
        with self._poll_transaction() as session:
            queries.upsert_state(session, state, now)
            inserted = queries.insert_posts(session, posts, now)
            stored = queries.inserted_in_order(posts, inserted)
            queries.insert_matches(session, inserted, matches)
            assigned = stories.assign_stories(
                session,
                stored,
                inserted,
                now,
                window=story_window,
                threshold=story_threshold,
                cache=self._fingerprints,
                fingerprints=fingerprints or {},
            )
            outcome = stories.insert_story_alerts(
                session,
                alerts,
                posts=stored,
                post_pks=inserted,
                story_of=assigned.story_of,
                now=now,
            )
        for post_pk, fp in assigned.fingerprints.items():
            self._fingerprints.put(post_pk, fp)
        return SavedPoll(stored, alerts=outcome.created, joined=outcome.joined)

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
