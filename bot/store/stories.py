"""Session-first queries for stories: assign new posts to stories, one alert per story.

Runs inside the poll's transaction (`Store.save_poll`), after the posts are inserted:
1. look up stored posts sharing an index key with the new ones, seen within the window
   (the newest MAX_POSTS_PER_KEY per key, so a stock phrase cannot make it slow);
2. let `bot.stories.choose_stories` decide (pure), and record each post's story and keys;
3. write one outbox row per (story, channel); a copy of a story that already has an alert in
   that channel adds its account to that alert ("Also posted by: …") instead.

The index itself (lookup and rows) is `bot.store.story_index`.

Workers sharing a PostgreSQL database take turns through step 1-3 (a transaction-scoped
advisory lock), so two copies polled at the same instant by two workers still meet. SQLite
writers take turns anyway: the poll transaction holds the write lock from its first insert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.model import AlertIntent, Post, StoryMember, StorySummary
from bot.store import edits
from bot.store.queries import PostKey, chunked, dialect_insert, post_from_row, terms_by_post
from bot.store.story_index import (
    FingerprintCache,
    IndexEntry,
    candidates,
    fingerprint_or_none,
    write_index,
)
from bot.store.tables import MATCH, OUTBOX, POST
from bot.stories.carrier import carrier_label
from bot.stories.keys import StoryFingerprint
from bot.stories.match import choose_stories

# pg_advisory_xact_lock key: any 64-bit constant, the same in every worker.
_STORY_LOCK = int.from_bytes(b"pw-story", "big")


@dataclass(frozen=True, slots=True)
class Assigned:
    """Each new post's story, and its fingerprint by post id: for the cache once committed
    (SQLite hands a rolled-back id out again)."""

    story_of: dict[PostKey, int]
    fingerprints: dict[int, StoryFingerprint]


@dataclass(frozen=True, slots=True)
class StoryAlerts:
    """What one poll's alerts became: new outbox rows, and existing alerts given new names."""

    created: int = 0
    joined: int = 0


def assign_stories(
    session: Session,
    posts: Sequence[Post],
    post_pks: Mapping[PostKey, int],
    now: datetime,
    *,
    window: timedelta,
    threshold: float,
    cache: FingerprintCache,
    fingerprints: Mapping[PostKey, StoryFingerprint],
) -> Assigned:
    """The story of each inserted post (in `post_pks`), recorded on the post and in the index.
    Fingerprints come from `fingerprints` (by post key) where given, else are computed here."""
    new = [post for post in posts if post.key in post_pks]
    if not new:
        return Assigned({}, {})
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(_STORY_LOCK)))
    fps = [_fingerprint(post, fingerprints) for post in new]
    found = candidates(session, {key for fp in fps for key in fp.keys}, now - window, cache)
    choices = choose_stories(fps, found, now=now, window=window, threshold=threshold)
    story_of: dict[PostKey, int] = {}
    for post, choice in zip(new, choices, strict=True):
        if choice.story_id is not None:
            story = choice.story_id
        elif choice.new_story is not None:
            story = post_pks[new[choice.new_story].key]  # a story is named after its first post
        else:
            story = post_pks[post.key]
        story_of[post.key] = story
    session.execute(
        sa.update(POST).where(POST.c.id == sa.bindparam("pk")).values(story_id=sa.bindparam("sid")),
        [{"pk": post_pks[key], "sid": story} for key, story in story_of.items()],
    )
    entries = [
        IndexEntry(post_pks[post.key], story_of[post.key], fp, now)
        for post, fp in zip(new, fps, strict=True)
    ]
    write_index(session, entries)
    return Assigned(story_of, {e.post_pk: e.fp for e in entries})


def _fingerprint(post: Post, given: Mapping[PostKey, StoryFingerprint]) -> StoryFingerprint:
    found = given.get(post.key)
    return fingerprint_or_none(post) if found is None else found


def insert_story_alerts(
    session: Session,
    alerts: Sequence[AlertIntent],
    *,
    posts: Sequence[Post],
    post_pks: Mapping[PostKey, int],
    story_of: Mapping[PostKey, int],
    now: datetime,
) -> StoryAlerts:
    """One outbox row per (story, channel). A post whose story already has an alert in a
    channel (stored earlier, or earlier in this batch) adds its label to that alert, which is
    then edited (at most once a minute, never after 24 hours; `bot.store.edits`)."""
    by_key = {post.key: post for post in posts}
    wanted = [
        (alert, story_of[(alert.source_id, alert.post_id)])
        for alert in alerts
        if (alert.source_id, alert.post_id) in post_pks
    ]
    if not wanted:
        return StoryAlerts()
    existing = _story_alerts(session, {story for _, story in wanted})
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    labels: dict[tuple[int, str], list[str]] = {}
    for alert, story in wanted:
        pair = (story, alert.channel_id)
        label = carrier_label(by_key[(alert.source_id, alert.post_id)])
        if pair in existing or pair in rows:
            labels.setdefault(pair, []).append(label)
            continue
        rows[pair] = {
            "post_pk": post_pks[(alert.source_id, alert.post_id)],
            "story_id": story,
            "channel_id": alert.channel_id,
            "topic_ids": list(alert.topic_ids),
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "status_changed_at": now,
        }
        labels[pair] = [label]  # its own; dropped below, it shows as the alert's author
    if rows:
        session.execute(
            dialect_insert(session, OUTBOX).on_conflict_do_nothing(), list(rows.values())
        )
        existing.update(_story_alerts(session, {story for story, _ in rows}))
    joined = 0
    for pair, names in labels.items():
        alert_id, own = existing[pair]
        others = [name for name in dict.fromkeys(names) if name != own]
        if others:
            edits.request_edit(session, alert_id, others, now)
            joined += 1
    return StoryAlerts(created=len(rows), joined=joined)


def _story_alerts(session: Session, stories: set[int]) -> dict[tuple[int, str], tuple[int, str]]:
    """(story, channel) -> (alert id, the label of the post it shows), for existing alerts."""
    found: dict[tuple[int, str], tuple[int, str]] = {}
    for chunk in chunked(sorted(stories)):
        stmt = (
            sa.select(
                OUTBOX.c.id.label("alert_id"),
                OUTBOX.c.story_id.label("alert_story"),
                OUTBOX.c.channel_id.label("alert_channel"),
                POST,
            )
            .join(POST, POST.c.id == OUTBOX.c.post_pk)
            .where(OUTBOX.c.story_id.in_(chunk))
        )
        for row in session.execute(stmt):
            label = carrier_label(post_from_row(row))
            found[(row.alert_story, row.alert_channel)] = (row.alert_id, label)
    return found


def list_stories(
    session: Session, since: datetime, topic_id: str | None, min_posts: int, limit: int
) -> list[StorySummary]:
    """Stories first seen at or after `since`, newest first, with their posts oldest first;
    with `topic_id`, only stories one of whose posts matched it."""
    first_seen = sa.func.min(POST.c.seen_at)
    stmt = (
        sa.select(POST.c.story_id)
        .where(POST.c.story_id.is_not(None))
        .group_by(POST.c.story_id)
        .having(first_seen >= since, sa.func.count() >= min_posts)
        .order_by(first_seen.desc(), POST.c.story_id.desc())
        .limit(limit)
    )
    if topic_id is not None:
        matched = sa.select(POST.c.story_id).join(MATCH, MATCH.c.post_pk == POST.c.id)
        stmt = stmt.where(POST.c.story_id.in_(matched.where(MATCH.c.topic_id == topic_id)))
    story_ids = list(session.execute(stmt).scalars())
    members: dict[int, list[StoryMember]] = {story: [] for story in story_ids}
    for chunk in chunked(story_ids):
        rows = session.execute(
            sa.select(POST).where(POST.c.story_id.in_(chunk)).order_by(POST.c.seen_at, POST.c.id)
        ).all()
        topics = terms_by_post(session, [row.id for row in rows])
        for row in rows:
            member = StoryMember(post_from_row(row), row.seen_at, tuple(topics.get(row.id, {})))
            members[row.story_id].append(member)
    return [StorySummary(story, tuple(members[story])) for story in story_ids]
