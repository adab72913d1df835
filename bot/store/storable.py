"""What the database can hold, made of what an adapter produced. Pure: no SQL, no I/O.

Three values refuse to be stored, and one of them in one post used to fail the poll's whole
insert (every post of the batch lost with it):
- NUL in text: PostgreSQL's text type cannot hold it ("PostgreSQL text fields cannot contain
  NUL (0x00) bytes"); SQLite would keep it, and both backends must behave alike.
- a lone surrogate: neither driver can encode it as UTF-8, and Python's json module decodes a
  JSON string escape like "\\ud83d" without its pair into exactly that.
- a naive datetime: `UtcDateTime` refuses it, and a time outside what UTC can express cannot be
  converted either.
And PostgreSQL cannot index keys past ~2.7 KB, which some feeds' ids (whole URLs with tracking
junk) exceed: `unique_posts` replaces those by their hash.

The poll makes every post and state storable before it looks anything up, so the fingerprint,
the match and the stored row all see the same text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.model import Post, SourceState

MAX_POST_ID = 512  # characters; at most 2 KB of UTF-8, under PostgreSQL's index key limit


def storable_text(text: str) -> str:
    """`text` without NUL, lone surrogates replaced by U+FFFD (a pair written as two halves,
    "\\ud83d\\ude00", becomes its character)."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def storable_time(when: datetime | None) -> datetime | None:
    """`when` in UTC. A naive time is taken as UTC, as feeds without a zone are read; a time
    that UTC cannot express (year 1 east of Greenwich) is dropped: the post then counts as
    first seen now."""
    if when is None:
        return None
    try:
        if when.tzinfo is None or when.utcoffset() is None:
            return when.replace(tzinfo=UTC)
        return when.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def storable_post(post: Post) -> tuple[Post, tuple[str, ...]]:
    """The post as the database can hold it, and what had to change (empty when nothing)."""
    changed: list[str] = []
    values: dict[str, Any] = {}
    for name in ("source_id", "post_id", "text", "url", "author", "title", "lang", "image_url"):
        value = getattr(post, name)
        if value is None:
            continue
        clean = storable_text(value)
        if clean != value:
            values[name] = clean
            changed.append(f"{name} had NUL or unpaired surrogate characters")
    published = post.published_at
    if published is not None:
        when = storable_time(published)
        if when is None or when != published:  # a naive time never equals an aware one
            values["published_at"] = when
            changed.append(f"published_at {published.isoformat()} was naive or out of range")
        elif published.tzinfo is not UTC:
            values["published_at"] = when  # the same instant, in UTC: no repair
    return (replace(post, **values) if values else post), tuple(changed)


def storable_state(state: SourceState) -> SourceState:
    """The source state as the database can hold it (validators and cursors come off the wire)."""

    def clean(value: str | None) -> str | None:
        return None if value is None else storable_text(value)

    return replace(
        state,
        etag=clean(state.etag),
        last_modified=clean(state.last_modified),
        cursor={storable_text(k): storable_text(v) for k, v in state.cursor.items()},
        last_error=clean(state.last_error),
    )


def unique_posts(posts: Sequence[Post]) -> list[Post]:
    """Drop repeated ids within one fetch (feeds do repeat items); the first one wins. Ids
    longer than MAX_POST_ID are replaced by their hash, `sha256:<hex>`."""
    seen: set[str] = set()
    unique: list[Post] = []
    for original in posts:
        post = original
        if len(post.post_id) > MAX_POST_ID:
            digest = hashlib.sha256(post.post_id.encode("utf-8", "surrogatepass")).hexdigest()
            post = replace(post, post_id=f"sha256:{digest}")
        if post.post_id not in seen:
            seen.add(post.post_id)
            unique.append(post)
    return unique
