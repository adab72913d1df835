"""APScheduler jobs: one interval job per source and one delivery job.

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
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

if TYPE_CHECKING:
    from bot.app import Runtime

log = logging.getLogger(__name__)

DELIVERY_INTERVAL = timedelta(seconds=1)
# Spread first polls so a restart with many sources does not fire them all in one instant.
START_SPREAD = timedelta(seconds=5)


class Jobs:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._inflight: set[asyncio.Task[object]] = set()

    def start(self) -> None:
        from bot.app import enabled_sources

        now = self._runtime.clock()
        for source in enabled_sources(self._runtime.config):
            first = now + START_SPREAD * random.random()  # noqa: S311 - jitter, not crypto
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
        self._scheduler.add_job(
            self._tracked(self._runtime.deliver),
            "interval",
            seconds=DELIVERY_INTERVAL.total_seconds(),
            id="deliver",
            next_run_time=now,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        self._scheduler.start()

    async def stop(self) -> None:
        self._scheduler.shutdown(wait=False)
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        # Alerts the last polls queued stay pending in the outbox for the next start.
        await self._runtime.close()

    def _tracked(self, make: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
        async def job() -> object:
            task = asyncio.current_task()
            assert task is not None
            self._inflight.add(task)
            try:
                return await make()
            finally:
                self._inflight.discard(task)

        return job
