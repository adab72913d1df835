"""APScheduler jobs: one interval job per source, one per `digest:` channel; and the delivery
loop (bot.deliver.loop) as its own task beside them, so a throttled Telegram never delays a poll and
a burst of polls never starves delivery.

APScheduler 3's job stores cannot be shared between processes (its FAQ), so jobs are rebuilt
from the config at every start and nothing is persisted in the scheduler itself.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config.settings import SourceConfig
from bot.config.values import format_duration
from bot.log import counted
from bot.runtime.core import Runtime, enabled_sources
from bot.store.state_book import FLUSH_EVERY

log = logging.getLogger(__name__)

# Spread first polls so a restart with many sources does not fire them all in one instant.
START_SPREAD = timedelta(seconds=5)
# At SIGTERM, polls in flight get this long to finish (compose.yaml grants 30 s in all).
STOP_GRACE = 20.0


class Jobs:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._inflight: set[asyncio.Task[object]] = set()
        self._polled: dict[str, SourceConfig] = {}  # source id -> the config its job polls
        self._digests: dict[str, timedelta] = {}  # channel id -> its digest job's period
        self._delivery: asyncio.Task[None] | None = None
        self._stopping = False
        self._summary_every: timedelta | None = None

    def start(self) -> None:
        for source in enabled_sources(self._runtime.config):
            self._add_poll(source)
        self._reschedule_digests()
        self._reschedule_summary()
        self._scheduler.add_job(
            self._runtime.flush_states,
            "interval",
            seconds=FLUSH_EVERY,
            id="states",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        self._delivery = asyncio.create_task(
            self._runtime.delivery().run(), name="postwatch-delivery"
        )
        self._scheduler.start()

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """No new polls; those in flight finish (within `grace` seconds, then they are
        cancelled, quietly: their transaction rolls back and the next start polls again); the
        send on the wire finishes; everything closes."""
        # Not shutdown() first: APScheduler's asyncio executor cancels running jobs there.
        self._scheduler.pause()
        self._stopping = True
        if self._delivery is not None:
            self._runtime.delivery().stop()
        inflight = list(self._inflight)
        if inflight:
            _done, late = await asyncio.wait(inflight, timeout=grace)
            for task in late:
                task.cancel()
            if late:
                log.warning(
                    "stopping: %s still running after %gs, cancelled",
                    counted(len(late), "poll"),
                    grace,
                )
                await asyncio.gather(*late, return_exceptions=True)
        self._scheduler.shutdown(wait=False)
        if self._delivery is not None:
            await asyncio.gather(self._delivery, return_exceptions=True)
        # Alerts the last polls queued stay pending in the outbox for the next start.
        await self._runtime.close()

    @property
    def polled_sources(self) -> dict[str, SourceConfig]:
        """Source id -> the SourceConfig its interval job polls."""
        return dict(self._polled)

    def reschedule_sources(self) -> None:
        """Make the poll jobs follow the runtime's config after a reload: jobs of removed or
        changed sources go, new and changed ones start (spread like at start); the others keep
        their timing."""
        wanted = {source.id: source for source in enabled_sources(self._runtime.config)}
        for source_id, polled in list(self._polled.items()):
            if wanted.get(source_id) != polled:
                self._scheduler.remove_job(f"poll:{source_id}")
                del self._polled[source_id]
        for source_id, source in wanted.items():
            if source_id not in self._polled:
                self._add_poll(source)
        self._reschedule_digests()
        self._reschedule_summary()

    @property
    def digest_channels(self) -> dict[str, timedelta]:
        """Channel id -> the period of its digest job."""
        return dict(self._digests)

    def _reschedule_digests(self) -> None:
        """One interval job per channel with `digest:`; it asks the deliverer for the digest."""
        wanted = {c.id: c.digest for c in self._runtime.config.channels if c.digest is not None}
        for channel_id, period in list(self._digests.items()):
            if wanted.get(channel_id) != period:
                self._scheduler.remove_job(f"digest:{channel_id}")
                del self._digests[channel_id]
        for channel_id, period in wanted.items():
            if channel_id in self._digests:
                continue

            async def request(channel_id: str = channel_id) -> None:
                self._runtime.delivery().request_digest(channel_id)

            self._scheduler.add_job(
                request,
                "interval",
                seconds=period.total_seconds(),
                id=f"digest:{channel_id}",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
            )
            self._digests[channel_id] = period

    def _reschedule_summary(self) -> None:
        """One line every `log_every` saying what the bot did (bot.runtime.activity)."""
        every = self._runtime.config.log_every
        if every == self._summary_every:
            return
        if self._summary_every is not None:
            self._scheduler.remove_job("summary")
        self._scheduler.add_job(
            self._summarize,
            "interval",
            seconds=every.total_seconds(),
            id="summary",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        self._summary_every = every

    async def _summarize(self) -> None:
        try:
            counts = await asyncio.to_thread(self._runtime.store.outbox_counts)
        except Exception as exc:  # noqa: BLE001 - a locked database skips one status line
            log.warning("no summary this time: the outbox could not be read: %s", exc)
            return
        backlog = counts.get("pending", 0) + counts.get("sending", 0)
        period = format_duration(self._runtime.config.log_every)
        log.info("%s", self._runtime.activity.summary(period, backlog))

    def _add_poll(self, source: SourceConfig) -> None:
        first = self._runtime.clock() + START_SPREAD * random.random()  # noqa: S311 - jitter
        self._scheduler.add_job(
            self._tracked(functools.partial(self._runtime.poll, source)),
            "interval",
            seconds=source.every.total_seconds(),
            id=f"poll:{source.id}",
            next_run_time=first,
            max_instances=1,  # a slow poll is never stacked on itself
            coalesce=True,  # polls missed while busy collapse into one
            misfire_grace_time=None,
        )
        self._polled[source.id] = source

    def _tracked(self, make: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
        async def job() -> object:
            task = asyncio.current_task()
            assert task is not None
            self._inflight.add(task)
            try:
                return await make()
            except asyncio.CancelledError:
                if not self._stopping:
                    raise
                return None  # cancelled by stop() after its grace period: said there, once
            finally:
                self._inflight.discard(task)

        return job
