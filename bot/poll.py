"""Poll one source: fetch → parse → drop known → classify → route → one transaction.

Polling stops at the outbox; delivery is `bot.deliver`'s job.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.classify.watchlist import Watchlist
from bot.config.settings import ChannelConfig, SourceConfig, StorySettings
from bot.errors import SourceError
from bot.model import Post, SourceState, TopicMatch
from bot.net.client import HttpClient
from bot.route import route_alerts
from bot.sources.registry import adapter_for
from bot.store.database import Store

log = logging.getLogger(__name__)

# A failing source backs off exponentially from its own interval, up to this ceiling.
MAX_BACKOFF = timedelta(hours=6)
MAX_POST_ID = 512
DEFAULT_STORIES = StorySettings()


@dataclass(frozen=True, slots=True)
class PollReport:
    source_id: str
    fetched: int = 0
    stored: int = 0
    alerts: int = 0
    joined: int = 0  # copies of already-alerted stories, added to those alerts' names
    not_modified: bool = False
    skipped: bool = False  # waiting out Retry-After or backoff
    error: str | None = None


async def poll_source(
    source: SourceConfig,
    *,
    store: Store,
    http: HttpClient,
    watchlist: Watchlist,
    channels: Sequence[ChannelConfig],
    clock: Callable[[], datetime],
    stories: StorySettings = DEFAULT_STORIES,
) -> PollReport:
    """Poll `source` once. A SourceError is recorded on the source and reported, never raised."""
    now = clock()
    state = (await asyncio.to_thread(store.load_states)).get(source.id) or SourceState(source.id)
    if state.next_poll_at is not None and state.next_poll_at > now:
        return PollReport(source.id, skipped=True)
    try:
        fetched = await adapter_for(source.kind).fetch(source, state, http, now)
    except SourceError as exc:
        failed = record_failure(state, exc, source.every, clock())
        log.warning("source %s failed (%d in a row): %s", source.id, failed.failures, exc)
        await asyncio.to_thread(store.save_state, failed, clock())
        return PollReport(source.id, error=str(exc))

    next_state = replace(fetched.state, baseline_done=True, failures=0, last_error=None)
    next_state = replace(next_state, next_poll_at=None)
    if fetched.not_modified:
        await asyncio.to_thread(store.save_state, next_state, clock())
        return PollReport(source.id, not_modified=True)

    posts = _unique(fetched.posts)
    known = await asyncio.to_thread(store.known_post_ids, source.id, [p.post_id for p in posts])
    fresh = [p for p in posts if p.post_id not in known]
    matches: dict[tuple[str, str], list[TopicMatch]] = {}
    for post in fresh:
        found = watchlist.match(post, source.kind)
        if found:
            matches[post.key] = found
    baseline = not state.baseline_done and not source.alert_backlog
    alerts = route_alerts(
        fresh, matches, channels, now=now, max_age=source.max_age, baseline=baseline
    )
    saved = await asyncio.to_thread(
        store.save_poll,
        next_state,
        fresh,
        matches,
        alerts,
        now,
        story_window=stories.window,
        story_threshold=stories.threshold,
    )
    if saved.posts:
        log.info(
            "source %s: %d new posts, %d matched, %d alerts, %d joined alerted stories%s",
            source.id,
            len(saved.posts),
            sum(1 for p in saved.posts if p.key in matches),
            saved.alerts,
            saved.joined,
            " (baseline)" if baseline else "",
        )
    return PollReport(
        source.id,
        fetched=len(posts),
        stored=len(saved.posts),
        alerts=saved.alerts,
        joined=saved.joined,
    )


def record_failure(
    state: SourceState, error: SourceError, every: timedelta, now: datetime
) -> SourceState:
    """The state after a failed poll: Retry-After wins, else exponential backoff from `every`."""
    failures = state.failures + 1
    delay = min(every * (2 ** min(failures - 1, 16)), max(MAX_BACKOFF, every))
    if error.retry_after is not None:
        # Clamped: a hostile or broken server must not park a source for days.
        delay = min(max(timedelta(seconds=error.retry_after), every), max(MAX_BACKOFF, every))
    # The first failure waits only the normal interval: one blip should not slow a source down.
    next_poll_at = now + delay if failures > 1 or error.retry_after is not None else None
    return replace(state, failures=failures, last_error=str(error)[:500], next_poll_at=next_poll_at)


def _unique(posts: Sequence[Post]) -> list[Post]:
    """Drop repeated ids within one fetch (feeds do repeat items); the first one wins.

    Ids longer than MAX_POST_ID (some feeds use whole URLs with tracking junk) are replaced by
    their hash: PostgreSQL cannot index keys past ~2.7 KB.
    """
    seen: set[str] = set()
    unique: list[Post] = []
    for original in posts:
        post = original
        if len(post.post_id) > MAX_POST_ID:
            digest = hashlib.sha256(post.post_id.encode()).hexdigest()
            post = replace(post, post_id=f"sha256:{digest}")
        if post.post_id not in seen:
            seen.add(post.post_id)
            unique.append(post)
    return unique
