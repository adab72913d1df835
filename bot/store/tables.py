"""Every table postwatch stores, in one module. These classes never leave `bot.store`.

The schema is owned by the Alembic migrations in `bot/store/migrations`; a test checks that these
models and the migrated database agree. Constraints carry names from one naming convention so a
later migration can drop or replace them by name (SQLite's batch mode needs that too).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Our own registry and metadata, so tables defined elsewhere on SQLModel's global metadata never
# leak into our migrations (and ours never into theirs).
metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class _Table(SQLModel, registry=registry(metadata=metadata)):
    pass


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL stores `timestamptz`; SQLite has no time zones, so values are written as naive UTC
    and marked UTC again on read. Naive input is refused: it is always a bug upstream.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: store timezone-aware UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _text(*, nullable: bool = True) -> Any:
    # Unbounded text on both backends: a VARCHAR(n) would truncate silently on SQLite but raise
    # on PostgreSQL, and the two backends must behave the same.
    return Field(default=None, sa_type=sa.Text, nullable=nullable)


def _when(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UtcDateTime, nullable=nullable, index=index)


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_type=sa.JSON, nullable=False)


def _count() -> Any:
    # A server default so the migration can add the column to existing rows.
    return Field(default=0, nullable=False, sa_column_kwargs={"server_default": "0"})


class SourceStateRow(_Table, table=True):
    __tablename__ = "source_state"

    source_id: str = Field(sa_type=sa.Text, primary_key=True)
    etag: str | None = _text()
    last_modified: str | None = _text()
    cursor: dict[str, str] = _json(dict)
    baseline_done: bool = Field(default=False, nullable=False)
    failures: int = Field(default=0, nullable=False)
    last_error: str | None = _text()
    next_poll_at: datetime | None = _when()
    last_polled_at: datetime | None = _when()


class PostRow(_Table, table=True):
    __tablename__ = "post"
    __table_args__ = (sa.UniqueConstraint("source_id", "post_id"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(sa_type=sa.Text, nullable=False)
    post_id: str = Field(sa_type=sa.Text, nullable=False)
    url: str | None = _text()
    author: str | None = _text()
    title: str | None = _text()
    text: str = Field(sa_type=sa.Text, nullable=False)
    published_at: datetime | None = _when(index=True)
    lang: str | None = _text()
    image_url: str | None = _text()
    seen_at: datetime = _when(nullable=False, index=True)
    # The story this post belongs to: the id of the post that started it (0003_stories).
    story_id: int | None = Field(default=None, nullable=True, index=True)


class StoryKeyRow(_Table, table=True):
    """The story index (0003_stories): one row per (index key, post). The primary key leads
    with (key, seen_at), the lookup's order: newest posts holding a key within the window."""

    __tablename__ = "story_key"

    key: int = Field(
        sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    seen_at: datetime = Field(sa_type=UtcDateTime, primary_key=True)
    post_pk: int = Field(foreign_key="post.id", primary_key=True, ondelete="CASCADE")
    story_id: int = Field(nullable=False)


class StoryPrintRow(_Table, table=True):
    """A post's story fingerprint (0003_stories), so candidates are compared without redoing
    the normalisation and hashing; rows of another FINGERPRINT_VERSION are recomputed."""

    __tablename__ = "story_print"

    post_pk: int = Field(foreign_key="post.id", primary_key=True, ondelete="CASCADE")
    version: int = Field(nullable=False)
    text: str = Field(sa_type=sa.Text, nullable=False)
    urls: list[str] = _json(list)
    starts: list[int] = _json(list)
    keys: list[int] = _json(list)


class MatchRow(_Table, table=True):
    """Which topics a post matched, and the query terms that fired."""

    __tablename__ = "topic_match"

    post_pk: int = Field(foreign_key="post.id", primary_key=True, ondelete="CASCADE")
    topic_id: str = Field(sa_type=sa.Text, primary_key=True, index=True)
    terms: list[str] = _json(list)


class OutboxRow(_Table, table=True):
    """One alert to deliver to one channel. Written with its post; 'sent' only after Telegram
    answered (persist before you send)."""

    __tablename__ = "outbox"
    __table_args__ = (
        sa.UniqueConstraint("post_pk", "channel_id"),
        sa.Index(None, "status", "next_attempt_at"),
        # One alert per story and channel (0003_stories); a unique index, see the migration.
        sa.Index("uq_outbox_story_id_channel_id", "story_id", "channel_id", unique=True),
    )
    # Status: pending → sending → sent, or failed / uncertain (bot.store.outbox explains each).

    id: int | None = Field(default=None, primary_key=True)
    post_pk: int = Field(foreign_key="post.id", nullable=False, ondelete="CASCADE")
    channel_id: str = Field(sa_type=sa.Text, nullable=False)
    topic_ids: list[str] = _json(list)
    # 'pending' | 'sent' | 'failed'. No CHECK constraint: new states ('sending') are expected and
    # SQLite can only change a CHECK by copying the table.
    status: str = Field(sa_type=sa.Text, nullable=False)
    attempts: int = Field(default=0, nullable=False)
    next_attempt_at: datetime = _when(nullable=False)
    last_error: str | None = _text()
    created_at: datetime = _when(nullable=False)
    status_changed_at: datetime = _when(nullable=False)  # created, sent or failed; not retries
    sent_at: datetime | None = _when()
    # Bot API integers may need up to 52 bits (chat ids do); BIGINT spares a later migration.
    message_id: int | None = Field(default=None, sa_type=sa.BigInteger, nullable=True)
    # Added by 0002_delivery.
    ambiguous: int = _count()  # sends that may have arrived unanswered (read timeouts)
    strikes: int = _count()  # refusals and interrupted sends; bounded
    sending_at: datetime | None = _when()  # when the send now on the wire started
    chat_id: int | None = Field(default=None, sa_type=sa.BigInteger, nullable=True)  # sent to
    delivered_as: str | None = _text()  # message | photo | digest
    latency_ms: int | None = Field(default=None, sa_type=sa.BigInteger, nullable=True)
    also_posted_by: list[str] = Field(
        default_factory=list,
        sa_type=sa.JSON,
        nullable=False,
        sa_column_kwargs={"server_default": "[]"},
    )
    edit_due_at: datetime | None = _when(index=True)
    edited_at: datetime | None = _when()
    story_id: int | None = Field(default=None, nullable=True)  # added by 0003_stories


class ChannelRow(_Table, table=True):
    """What delivery learned about a configured channel (0002_delivery). Facts hold for the
    chat id configured when they were learned; a changed config starts the row afresh."""

    __tablename__ = "channel"

    channel_id: str = Field(sa_type=sa.Text, primary_key=True)
    config_chat: str = Field(sa_type=sa.Text, nullable=False)
    chat_id: int | None = Field(default=None, sa_type=sa.BigInteger, nullable=True)
    disabled_reason: str | None = _text()
    disabled_at: datetime | None = _when()
    admins_told_at: datetime | None = _when()
    last_digest_at: datetime | None = _when()


class LeaseRow(_Table, table=True):
    """One row per lease; "delivery" makes one process per database the sender (0002)."""

    __tablename__ = "lease"

    name: str = Field(sa_type=sa.Text, primary_key=True)
    holder: str = Field(sa_type=sa.Text, nullable=False)
    acquired_at: datetime = _when(nullable=False)
    expires_at: datetime = _when(nullable=False)


class FloodHoldRow(_Table, table=True):
    """Nothing may be sent before `until`, to one chat or (scope "*") to any (0004): Telegram
    answered 429 with retry_after, and a restart must not send into that wait."""

    __tablename__ = "flood_hold"

    scope: str = Field(sa_type=sa.Text, primary_key=True)
    until: datetime = _when(nullable=False)


SOURCE_STATE: sa.Table = SourceStateRow.__table__  # type: ignore[attr-defined]
POST: sa.Table = PostRow.__table__  # type: ignore[attr-defined]
MATCH: sa.Table = MatchRow.__table__  # type: ignore[attr-defined]
OUTBOX: sa.Table = OutboxRow.__table__  # type: ignore[attr-defined]
CHANNEL: sa.Table = ChannelRow.__table__  # type: ignore[attr-defined]
LEASE: sa.Table = LeaseRow.__table__  # type: ignore[attr-defined]
STORY_KEY: sa.Table = StoryKeyRow.__table__  # type: ignore[attr-defined]
STORY_PRINT: sa.Table = StoryPrintRow.__table__  # type: ignore[attr-defined]
FLOOD_HOLD: sa.Table = FloodHoldRow.__table__  # type: ignore[attr-defined]
