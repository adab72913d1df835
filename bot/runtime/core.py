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
from bot.errors import DeliveryError, StoreError, TokenRejectedError
from bot.log import RepeatLimiter
from bot.net.client import HttpClient
from bot.notify.base import ConsoleNotifier, Notifier
from bot.notify.telegram import TelegramNotifier
from bot.poll import PollReport, poll_source
from bot.runtime.activity import Activity
from bot.store.database import Store
from bot.store.state_book import StateBook

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
    # Every source's poll state, read once at start and written behind (bot.store.state_book).
    states: StateBook
    deliverer: Deliverer | None = field(default=None)
    # Which bugs were logged with their traceback, and when: one for all polls of this run.
    bugs: RepeatLimiter = field(default_factory=RepeatLimiter)
    activity: Activity = field(default_factory=Activity)  # since the last summary line

    async def poll(self, source: SourceConfig) -> PollReport:
        async with self.fetch_slots:
            report = await poll_source(
                source,
                store=self.store,
                http=self.http,
                watchlist=self.watchlist,
                channels=self.config.channels,
                stories=self.config.stories,
                clock=self.clock,
                bugs=self.bugs,
                states=self.states,
            )
        self.activity.record(report)
        return report

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

    async def flush_states(self) -> None:
        """Write the poll states waiting in memory (failures are logged, never raised)."""
        if self.states.waiting:
            await asyncio.to_thread(self.states.flush)

    async def close(self) -> None:
        await self.flush_states()
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
    """Pick the notifier, open the database (migrating it), compile topics.

    With a bot token, Telegram is asked who the bot is first (getMe): TokenRejectedError when
    it refuses the token, so a wrong one stops the start instead of failing every send. An
    unreachable Telegram only warns: polling goes on, alerts wait in the outbox. StoreError
    when the database cannot be opened. Nothing stays open when either is raised.
    """
    if notifier is None:
        notifier = await _notifier(config)
    try:
        store = await asyncio.to_thread(Store.open, config.database_url)
    except StoreError:
        await notifier.aclose()
        raise
    try:
        states = await asyncio.to_thread(StateBook.load, store)
    except StoreError:
        await notifier.aclose()
        await asyncio.to_thread(store.close)
        raise
    watchlist, problems = Watchlist.compile(config.topics)
    for problem in problems:  # config validation reports these first; this is the safety net
        log.error("topic %s disabled: %s", problem.topic_id, problem.error)
    return Runtime(
        config=config,
        store=store,
        http=HttpClient(config.network, transport=transport),
        notifier=notifier,
        watchlist=watchlist,
        clock=clock,
        fetch_slots=asyncio.Semaphore(config.network.concurrency),
        states=states,
    )


async def _notifier(config: Config) -> Notifier:
    if not config.telegram.token:
        return ConsoleNotifier()
    telegram = TelegramNotifier(config.telegram.token, config.telegram.base_url)
    try:
        log.info("sending alerts as %s", await telegram.identity())
    except TokenRejectedError:
        await telegram.aclose()
        raise
    except DeliveryError as exc:
        log.warning("Telegram does not answer yet (%s); alerts wait in the outbox", exc)
    return telegram


def enabled_sources(config: Config) -> Sequence[SourceConfig]:
    return [s for s in config.sources if s.enabled]
