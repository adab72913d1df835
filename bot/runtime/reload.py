"""Reload the config of a running bot (SIGHUP) without a restart.

The new file is read and validated completely, and its topics compiled, before anything
changes; then the Watchlist and the Config are swapped in one synchronous step (no `await`
between the assignments, so no poll or delivery on the event loop sees one without the other).
Polls already running finish with the matcher they started with. An invalid file changes
nothing: every problem is logged and the running config keeps serving. A topic whose query
does not compile is disabled and logged while the others match.

Settings that objects opened at start depend on (the database URL, the Telegram token and Bot
API URL, network limits) cannot change in place: a changed value is logged and the running one
kept, so `runtime.config` always says what is actually in effect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.classify.watchlist import TopicProblem, Watchlist
from bot.config.settings import Config
from bot.errors import ConfigError, PostwatchError
from bot.log import counted
from bot.model import TopicConfig
from bot.runtime.core import Runtime
from bot.runtime.jobs import Jobs

log = logging.getLogger(__name__)

# Config fields read once at start (Store, TelegramNotifier, HttpClient and its semaphore).
RESTART_ONLY = ("database_url", "telegram", "network")


@dataclass(frozen=True, slots=True)
class ReloadReport:
    applied: bool
    problems: tuple[str, ...] = ()  # why the file was refused (nothing applied)
    disabled: tuple[TopicProblem, ...] = ()  # topics left out of the new watchlist
    kept: tuple[str, ...] = ()  # RESTART_ONLY fields that changed and still have their old value


def pin_restart_only(running: Config, loaded: Config) -> tuple[Config, tuple[str, ...]]:
    """`loaded` with the RESTART_ONLY fields of `running`, and the names of those that differ."""
    kept = tuple(name for name in RESTART_ONLY if getattr(running, name) != getattr(loaded, name))
    pinned = replace(
        loaded,
        database_url=running.database_url,
        telegram=running.telegram,
        network=running.network,
    )
    return pinned, kept


def swap_config(
    runtime: Runtime, config: Config, watchlist: Watchlist, jobs: Jobs | None = None
) -> None:
    """Put a validated config and its compiled watchlist into service. Synchronous on purpose:
    between the two assignments nothing else on the event loop can run."""
    runtime.watchlist = watchlist
    runtime.config = config
    if jobs is not None:
        jobs.reschedule_sources()


async def reload_runtime(
    runtime: Runtime, load: Callable[[], Config], jobs: Jobs | None = None
) -> ReloadReport:
    """Read the config with `load` (ConfigError when invalid), compile, then swap."""
    try:
        loaded = await asyncio.to_thread(load)
    except ConfigError as exc:
        for problem in exc.problems:
            log.error("config reload: %s", problem)
        log.error(
            "config reload refused (%s): still running the previous config",
            counted(len(exc.problems), "problem"),
        )
        return ReloadReport(applied=False, problems=tuple(exc.problems))
    config, kept = pin_restart_only(runtime.config, loaded)
    for name in kept:
        log.warning("config reload: %s changed; restart postwatch to apply it", name)
    # Compiling thousands of topics takes a second or more: off the event loop, which goes on
    # polling and delivering with the old watchlist meanwhile.
    watchlist, disabled = await asyncio.to_thread(Watchlist.compile, config.topics)
    for topic in disabled:
        log.error("config reload: topic %s disabled: %s", topic.topic_id, topic.error)
    before = runtime.config
    swap_config(runtime, config, watchlist, jobs)
    log.info("config reloaded: %s", describe_changes(before, config, len(disabled)))
    await _catch_up(runtime, before, config, {t.topic_id for t in disabled})
    return ReloadReport(applied=True, disabled=tuple(disabled), kept=kept)


async def _catch_up(runtime: Runtime, before: Config, after: Config, disabled: set[str]) -> None:
    """What a reload owes the store: sources whose settings changed lose their backoff (a
    fixed URL is polled now, not in hours), and topics added or changed are matched against
    the stored posts of the stories window, without alerting, so `topics list` and `export`
    are right at once. Failures here are logged; the new config is already in service."""
    old_sources = {s.id: s for s in before.sources}
    changed = [s.id for s in after.sources if s.id in old_sources and s != old_sources[s.id]]
    old_topics = {t.id: t.query for t in before.topics}
    fresh = [t for t in after.topics if old_topics.get(t.id) != t.query and t.id not in disabled]
    try:
        if changed:
            await asyncio.to_thread(runtime.store.reset_backoff, changed)
            runtime.states.reset_backoff(changed)
        if fresh:
            await _rematch(runtime, after, fresh)
    except PostwatchError as exc:
        log.warning("config reload: catching up in the store failed: %s", exc)


async def _rematch(runtime: Runtime, config: Config, topics: list[TopicConfig]) -> None:
    watchlist, _problems = Watchlist.compile(topics)
    kinds = {source.id: source.kind for source in config.sources}
    since = runtime.clock() - config.stories.window
    count = await asyncio.to_thread(
        runtime.store.rematch,
        [topic.id for topic in topics],
        since,
        lambda post: watchlist.match(post, kinds.get(post.source_id, "")),
    )
    log.info(
        "config reload: %s matched against the posts stored since %s: %s (no alerts)",
        ", ".join(topic.id for topic in topics),
        since.isoformat(timespec="minutes"),
        counted(count, "match", "matches"),
    )


def describe_changes(before: Config, after: Config, disabled: int) -> str:
    """'topics +1 -0 ~2, sources +0 -1 ~0, channels ...' for the reload log line."""
    parts = []
    for name in ("topics", "sources", "channels"):
        old = {item.id: item for item in getattr(before, name)}
        new = {item.id: item for item in getattr(after, name)}
        added = len(new.keys() - old.keys())
        removed = len(old.keys() - new.keys())
        changed = sum(1 for key in new.keys() & old.keys() if new[key] != old[key])
        parts.append(f"{name} {len(new)} (+{added} -{removed} ~{changed})")
    if disabled:
        parts.append(f"{disabled} topics disabled")
    return ", ".join(parts)


class Reloader:
    """Runs reloads one at a time; a request during a reload runs one more after it, so the
    last edit of the file is always the one applied."""

    def __init__(self, runtime: Runtime, jobs: Jobs | None, load: Callable[[], Config]) -> None:
        self._runtime = runtime
        self._jobs = jobs
        self._load = load
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def request(self) -> None:
        """Start a reload (a signal handler calls this on the event loop thread)."""
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def wait(self) -> None:
        """Return once no reload is running or requested (at shutdown, and for tests)."""
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while True:
            self._again = False
            try:
                await reload_runtime(self._runtime, self._load, self._jobs)
            except Exception:  # a bug in reloading must not stop a running bot: logged
                log.exception("config reload failed: still running the previous config")
            if not self._again:
                return
