"""Wiring: build the runtime from a Config, run once or until stopped, stop gracefully."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from bot.config import Config, SourceConfig
from bot.deliver import Deliverer, DeliveryReport
from bot.http import HttpClient
from bot.matcher import Watchlist
from bot.notify import ConsoleNotifier, Notifier, TelegramNotifier
from bot.poll import PollReport, poll_source
from bot.store import Store

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

    async def deliver(self, *, due_only: bool = True) -> DeliveryReport:
        """Deliver everything pending now (due or not) and return; `due_only` is ignored."""
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


async def run_once(runtime: Runtime) -> tuple[list[PollReport], DeliveryReport]:
    """Poll every enabled source once (concurrently, capped), then deliver everything pending."""
    reports = await asyncio.gather(*(runtime.poll(s) for s in enabled_sources(runtime.config)))
    delivery = await runtime.deliver(due_only=False)
    return list(reports), delivery


async def run_until_stopped(
    runtime: Runtime,
    stop: asyncio.Event | None = None,
    reload: Callable[[], Config] | None = None,
) -> None:
    """Poll on each source's interval and deliver continuously until SIGTERM/SIGINT or `stop`.

    SIGHUP calls `reload` (which reads the config file again) and swaps in the new config and
    topics when it is valid (bot.reload). On stop: no new jobs start, in-flight polls, sends and
    a reload in progress finish, then everything closes.
    """
    from bot.reload import Reloader
    from bot.schedule import Jobs

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    jobs = Jobs(runtime)
    reloader = Reloader(runtime, jobs, reload) if reload is not None else None
    if reloader is not None:
        loop.add_signal_handler(signal.SIGHUP, reloader.request)
    jobs.start()
    log.info(
        "postwatch running: %d sources, %d topics, %d channels",
        len(enabled_sources(runtime.config)),
        len(runtime.config.topics),
        len(runtime.config.channels),
    )
    try:
        await stop.wait()
    finally:
        log.info("stopping: finishing in-flight work")
        if reloader is not None:
            loop.remove_signal_handler(signal.SIGHUP)
            await reloader.wait()
        await jobs.stop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
