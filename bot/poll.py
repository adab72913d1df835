"""Poll one source: fetch → parse → drop known → classify → route → store.

Polling stops at the outbox; delivery is `bot.deliver`'s job. The CPU-bound stages (parsing,
matching, fingerprints) run in worker threads, off the event loop the other polls share. A poll
reads its source's state from the run's `StateBook` (in memory, O(1) in the number of sources)
and stores its posts in chunks (`Store.save_poll`), so neither grows with the size of the rest.

Whatever goes wrong while one source is polled stays with that source (issue 9: one malformed
link in one feed ended a run of 2,100):
- Per post: a stage that fails on one post costs that post only that stage, with a warning
  naming it. Matching fails: stored without topics. Fingerprinting fails: stored as a story of
  its own, without index keys. A post that cannot be made storable is skipped.
- Per source, at `poll_source`: a SourceError (the fetch or the parse failed) and any exception
  outside bot.errors (our bug) are recorded on the source (its error, one more failure, the
  same backoff) and the source's state is not advanced, so the next poll fetches the same
  posts again. A bug is logged at ERROR with its traceback the first time, then at most once
  an hour while it repeats (`RepeatLimiter`, on the injected clock); a warning line otherwise.
- A StoreError (the database locked or gone) rolled the poll's transaction back: see
  `_database_failed` for why it is not counted against the source.
- asyncio.CancelledError, KeyboardInterrupt and SystemExit are not Exceptions and are never
  caught: a graceful stop relies on them.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.classify.watchlist import Watchlist
from bot.config.settings import ChannelConfig, SourceConfig, StorySettings
from bot.errors import PostwatchError, SourceError, StoreError
from bot.log import RepeatLimiter, counted
from bot.model import Post, SourceState, TopicMatch
from bot.net.client import HttpClient
from bot.route import route_alerts
from bot.sources.registry import adapter_for
from bot.store.database import Store
from bot.store.queries import PostKey
from bot.store.state_book import StateBook
from bot.store.storable import storable_post, storable_state, unique_posts
from bot.stories.keys import NO_FINGERPRINT, StoryFingerprint, fingerprint

log = logging.getLogger(__name__)

# A failing source backs off exponentially from its own interval, up to this ceiling.
MAX_BACKOFF = timedelta(hours=6)
DEFAULT_STORIES = StorySettings()
_LOGGED_ID = 120  # characters of a post id shown in a log line


@dataclass(frozen=True, slots=True)
class PollReport:
    source_id: str
    fetched: int = 0
    stored: int = 0
    alerts: int = 0
    joined: int = 0  # copies of already-alerted stories, added to those alerts' names
    matched: int = 0  # new posts that matched a topic
    not_modified: bool = False
    skipped: bool = False  # waiting out Retry-After or backoff: not polled at all
    error: str | None = None  # why the poll failed
    error_kind: str | None = None  # for grouping: the error's class, "bug: <class>" for ours
    damaged: int = 0  # posts a stage failed on (each warned about; stored where it could be)


@dataclass(slots=True)
class _Poll:
    """What one poll works with, besides the source."""

    store: Store
    http: HttpClient
    watchlist: Watchlist
    channels: Sequence[ChannelConfig]
    clock: Callable[[], datetime]
    stories: StorySettings
    bugs: RepeatLimiter
    states: StateBook | None  # None until read, when the caller keeps no book
    write_through: bool  # the book is this poll's own: write what it records at once

    async def record(self, state: SourceState) -> None:
        """A poll that stored nothing: its state, written behind (bot.store.state_book)."""
        assert self.states is not None
        self.states.record(state, self.clock())
        if self.write_through or self.states.due():
            await asyncio.to_thread(self.states.flush)


async def poll_source(
    source: SourceConfig,
    *,
    store: Store,
    http: HttpClient,
    watchlist: Watchlist,
    channels: Sequence[ChannelConfig],
    clock: Callable[[], datetime],
    stories: StorySettings = DEFAULT_STORIES,
    bugs: RepeatLimiter | None = None,
    states: StateBook | None = None,
) -> PollReport:
    """Poll `source` once. Never raises, short of cancellation and interpreter exit: what goes
    wrong is recorded on the source and reported (the module docstring says how). `bugs`
    remembers which bugs were logged in full; pass the same one to every poll of a run.
    `states` holds every source's state for a run (read once, written behind); without it the
    poll reads its source's state alone and writes it at once."""
    poll = _Poll(
        store,
        http,
        watchlist,
        channels,
        clock,
        stories,
        bugs or RepeatLimiter(),
        states,
        write_through=states is None,
    )
    state: SourceState | None = None
    try:
        if poll.states is None:
            poll.states = await asyncio.to_thread(StateBook.of_source, store, source.id)
        state = poll.states.get(source.id)
        if state.next_poll_at is not None and state.next_poll_at > clock():
            log.debug("source %s: backing off until %s", source.id, state.next_poll_at)
            return PollReport(source.id, skipped=True)
        return await _poll(source, state, poll)
    except StoreError as exc:
        return _database_failed(source.id, exc)
    except Exception as exc:  # noqa: BLE001 - SourceError, or our bug: contained (issue 9)
        return await _source_failed(source, state, exc, poll)


async def _poll(source: SourceConfig, state: SourceState, poll: _Poll) -> PollReport:
    now = poll.clock()
    fetched = await adapter_for(source.kind).fetch(source, state, poll.http, now)
    next_state = replace(fetched.state, baseline_done=True, failures=0, last_error=None)
    next_state = storable_state(replace(next_state, next_poll_at=None))
    if state.failures:
        log.info("source %s recovered after %d failed polls", source.id, state.failures)
    if fetched.not_modified:
        await poll.record(next_state)
        log.debug("source %s: not modified (HTTP 304)", source.id)
        return PollReport(source.id, not_modified=True)

    items = _PerPost(source.id, poll.bugs, now)
    posts = await asyncio.to_thread(lambda: unique_posts(items.storable(fetched.posts)))
    known = await asyncio.to_thread(
        poll.store.known_post_ids, source.id, [p.post_id for p in posts]
    )
    fresh = [p for p in posts if p.post_id not in known]
    if not fresh:  # nothing to store: the state alone, written behind like a 304's
        await poll.record(next_state)
        log.debug("source %s: %s fetched, all seen before", source.id, counted(len(posts), "post"))
        return PollReport(source.id, fetched=len(posts), damaged=items.damaged)
    matches = await asyncio.to_thread(items.matches, fresh, poll.watchlist, source.kind)
    # Fingerprints before the transaction: one that fails costs its post the story index
    # only, and the write lock is not held while they are computed.
    prints = await asyncio.to_thread(items.fingerprints, fresh)
    baseline = not state.baseline_done and not source.alert_backlog
    alerts = route_alerts(
        fresh, matches, poll.channels, now=now, max_age=source.max_age, baseline=baseline
    )
    saved = await asyncio.to_thread(
        poll.store.save_poll,
        next_state,
        fresh,
        matches,
        alerts,
        now,
        story_window=poll.stories.window,
        story_threshold=poll.stories.threshold,
        fingerprints=prints,
    )
    assert poll.states is not None
    poll.states.committed(next_state)
    matched = sum(1 for p in saved.posts if p.key in matches)
    if saved.posts:
        log.info(
            "source %s: %s, %d matched, %s, %d joined alerted stories%s",
            source.id,
            counted(len(saved.posts), "new post"),
            matched,
            counted(saved.alerts, "alert"),
            saved.joined,
            " (baseline)" if baseline else "",
        )
    else:
        log.debug("source %s: %s fetched, all seen before", source.id, counted(len(posts), "post"))
    return PollReport(
        source.id,
        fetched=len(posts),
        stored=len(saved.posts),
        matched=matched,
        alerts=saved.alerts,
        joined=saved.joined,
        damaged=items.damaged,
    )


async def _source_failed(
    source: SourceConfig, state: SourceState | None, exc: Exception, poll: _Poll
) -> PollReport:
    """Log and record a failed poll; the state recorded is the one before it (not advanced)."""
    reason = failure_reason(exc)
    failures = (state.failures if state is not None else 0) + 1
    failed = record_failure(state, exc, source.every, poll.clock()) if state is not None else None
    line = f"source {source.id} failed ({failures} in a row): {reason}"
    if failed is not None and failed.next_poll_at is not None:  # said once, as it backs off
        line += f"; backing off until {failed.next_poll_at:%H:%M} UTC"
    if isinstance(exc, PostwatchError):
        log.warning("%s", line)
    elif poll.bugs.due(("source", source.id, bug_site(exc)), poll.clock()):
        log.error("%s", line, exc_info=exc)
    else:
        log.warning("%s (a bug: its traceback is logged at most hourly)", line)
    if failed is not None:  # else loading it failed: writing a blank one would lose the real one
        try:
            await poll.record(storable_state(failed))
        except Exception as save_exc:  # noqa: BLE001 - the failure is reported all the same
            log.warning("source %s: its failure was not recorded: %s", source.id, save_exc)
    kind = type(exc).__name__ if isinstance(exc, PostwatchError) else f"bug: {type(exc).__name__}"
    return PollReport(source.id, error=reason, error_kind=kind)


def _database_failed(source_id: str, exc: StoreError) -> PollReport:
    """A StoreError: the poll's transaction rolled back, its state was not advanced.

    Reported as a failed poll, but not recorded against the source: the database is every
    source's, so the source is not at fault, backing it off would only delay fetching again
    exactly the posts that were not stored, and recording it would need the database that
    just failed. The next poll fetches the same posts again, so nothing is lost.
    """
    log.warning("source %s: nothing stored, the next poll fetches it again: %s", source_id, exc)
    return PollReport(source_id, error=str(exc), error_kind=type(exc).__name__)


def failure_reason(exc: Exception) -> str:
    """What a failed poll's error says: our own errors' words, or a bug named as one."""
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a bug's own __str__ may be the next bug
        text = "(its message cannot be shown)"
    return (
        text if isinstance(exc, PostwatchError) else f"internal error {type(exc).__name__}: {text}"
    )


def bug_site(exc: BaseException) -> tuple[str, str, int | None]:
    """A bug's identity for throttling: its class and the line that raised it."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return (type(exc).__qualname__, "", None)
    return (type(exc).__qualname__, frames[-1].filename, frames[-1].lineno)


def record_failure(
    state: SourceState, error: Exception, every: timedelta, now: datetime
) -> SourceState:
    """The state after a failed poll: Retry-After wins, else exponential backoff from `every`."""
    failures = state.failures + 1
    delay = min(every * (2 ** min(failures - 1, 16)), max(MAX_BACKOFF, every))
    retry_after = error.retry_after if isinstance(error, SourceError) else None
    if retry_after is not None:
        # Clamped: a hostile or broken server must not park a source for days.
        delay = min(max(timedelta(seconds=retry_after), every), max(MAX_BACKOFF, every))
    # The first failure waits only the normal interval: one blip should not slow a source down.
    next_poll_at = now + delay if failures > 1 or retry_after is not None else None
    reason = failure_reason(error)[:500]
    return replace(state, failures=failures, last_error=reason, next_poll_at=next_poll_at)


class _PerPost:
    """The per-post stages of one poll, each failure contained to its post and counted."""

    def __init__(self, source_id: str, bugs: RepeatLimiter, now: datetime) -> None:
        self.source_id = source_id
        self.bugs = bugs
        self.now = now
        self.damaged = 0

    def storable(self, posts: Sequence[Post]) -> list[Post]:
        kept: list[Post] = []
        for post in posts:
            try:
                clean, changes = storable_post(post)
            except Exception as exc:  # noqa: BLE001 - contained to this post
                self._failed(post, "making it storable", "skipped", exc)
                continue
            if changes:
                log.warning(
                    "source %s: post %r: %s; stored repaired",
                    self.source_id,
                    clean.post_id[:_LOGGED_ID],
                    "; ".join(changes),
                )
            kept.append(clean)
        return kept

    def matches(
        self, posts: Sequence[Post], watchlist: Watchlist, kind: str
    ) -> dict[PostKey, list[TopicMatch]]:
        found: dict[PostKey, list[TopicMatch]] = {}
        for post in posts:
            try:
                matched = watchlist.match(post, kind)
            except Exception as exc:  # noqa: BLE001 - contained to this post
                self._failed(post, "matching", "stored without topics", exc)
                continue
            if matched:
                found[post.key] = matched
        return found

    def fingerprints(self, posts: Sequence[Post]) -> dict[PostKey, StoryFingerprint]:
        prints: dict[PostKey, StoryFingerprint] = {}
        for post in posts:
            try:
                prints[post.key] = fingerprint(post)
            except Exception as exc:  # noqa: BLE001 - contained to this post
                self._failed(post, "fingerprinting", "stored as a story of its own", exc)
                prints[post.key] = NO_FINGERPRINT
        return prints

    def _failed(self, post: Post, stage: str, outcome: str, exc: Exception) -> None:
        self.damaged += 1
        post_id = str(getattr(post, "post_id", "?"))[:_LOGGED_ID]
        line = f"source {self.source_id}: post {post_id!r}: {stage} failed ({outcome}): "
        line += failure_reason(exc)
        if not isinstance(exc, PostwatchError) and self.bugs.due(
            (stage, self.source_id, bug_site(exc)), self.now
        ):
            log.error("%s", line, exc_info=exc)
        else:
            log.warning("%s", line)
