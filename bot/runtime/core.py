"""The runtime: everything a running bot holds open, built from a Config, and closed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from bot.classify.watchlist import Watchlist
from bot.config.settings import Config, SourceConfig
from bot.deliver.loop import Deliverer, DeliveryReport
from bot.net.client import HttpClient
from bot.notify.base import ConsoleNotifier, Notifier
from bot.notify.telegram import TelegramNotifier
from bot.poll import PollReport, poll_source
from bot.store.database import Store

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Runtime:
    """Everything a running bot holds open; built once by `open_runtime`, closed by `close`."""

    config: Config
    store: Store
    http: HttpClient
    notifier: Notifier
    watchlist: Watchlist
    clock: Callable[[], datetime]
    fetch_slots: asyncio.Semaphore
    deliverer: Deliverer | None = field(default=None)

    async def poll(self, source: SourceConfig) -> PollReport:
        async with self.fetch_slots:
            return await poll_source(
                source,
                store=self.store,
                http=self.http,
                watchlist=self.watchlist,
                channels=self.config.channels,
                stories=self.config.stories,
                clock=self.clock,
            )

    def delivery(self) -> Deliverer:
        """The delivery loop of this runtime (bot.deliver), following `config` as it reloads."""
        if self.deliverer is None:
            self.deliverer = Deliverer(
                self.store, self.notifier, lambda: self.config, clock=self.clock
            )
        return self.deliverer

    async def deliver(self) -> DeliveryReport:
        """Deliver everything pending now, due or not, and return."""
        return await self.delivery().drain()

    async def close(self) -> None:
        if self.deliverer is not None:
            await self.deliverer.aclose()
        await self.http.aclose()
        await self.notifier.aclose()
        await asyncio.to_thread(self.store.close)


async def open_runtime(
    config: Config,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    notifier: Notifier | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Runtime:
    """Open the database (migrating it), compile topics, and pick the notifier.

    Raises StoreError when the database cannot be opened; nothing else is opened then.
    """
    store = await asyncio.to_thread(Store.open, config.database_url)
    watchlist, problems = Watchlist.compile(config.topics)
    for problem in problems:  # config validation reports these first; this is the safety net
        log.error("topic %s disabled: %s", problem.topic_id, problem.error)
    if notifier is None:
        token = config.telegram.token
        notifier = TelegramNotifier(token, config.telegram.base_url) if token else ConsoleNotifier()
    return Runtime(
        config=config,
        store=store,
        http=HttpClient(config.network, transport=transport),
        notifier=notifier,
        watchlist=watchlist,
        clock=clock,
        fetch_slots=asyncio.Semaphore(config.network.concurrency),
    )


def enabled_sources(config: Config) -> Sequence[SourceConfig]:
    return [s for s in config.sources if s.enabled]
