"""Shared pieces of the delivery tests: an injected clock, a config, alerts in a real store, and
a fake Bot API server that can be told a chat has kicked the bot."""

from __future__ import annotations

import asyncio
import math
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from fakes.telegram_api import KICKED, FakeTelegram
from fakes.telegram_rules import ApiError

from bot.config.build import build_config
from bot.config.settings import Config, Secret
from bot.deliver.loop import Deliverer
from bot.model import AlertIntent, Post, SourceState, TopicMatch
from bot.notify.telegram import TelegramNotifier
from bot.store.database import Store

T0 = datetime(2026, 3, 18, 14, 0, tzinfo=UTC)
ADMIN = 424242


class FakeClock:
    """Wall time that moves only when someone sleeps: the deliverer, the fake server's flood
    limits and the store all read it, so minutes of pacing pass in milliseconds."""

    def __init__(self, start: datetime = T0) -> None:
        self.current = start
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return self.current.timestamp()

    def advance(self, seconds: float) -> None:
        # Whole microseconds, rounded up: datetime cannot hold less, and a sleep must advance.
        self.current += timedelta(microseconds=max(1, math.ceil(seconds * 1e6)))

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)


class KickingTelegram(FakeTelegram):
    """FakeTelegram where chats in `kicked` answer 403 to everything, as Telegram does once
    the bot is removed from a channel, and texts containing a string in `refused` get a 400."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kicked: set[str] = set()
        self.refused: set[str] = set()
        self.bad_photos: set[str] = set()

    def _result(self, method: str, chat_id: str | None, params: dict[str, Any]) -> Any:
        if chat_id in self.kicked:
            raise ApiError(403, KICKED)
        text = str(params.get("text", ""))
        if any(marker in text for marker in self.refused):
            raise ApiError(400, "Bad Request: message is too long")
        if method == "sendPhoto" and params.get("photo") in self.bad_photos:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        return super()._result(method, chat_id, params)


def make_config(
    db_url: str,
    telegram: FakeTelegram | None,
    channels: Sequence[dict[str, Any]],
    delivery: dict[str, Any] | None = None,
    admins: Sequence[int] = (ADMIN,),
) -> Config:
    document: dict[str, Any] = {
        "database_url": db_url,
        "telegram": {"admins": list(admins)},
        "channels": list(channels),
        "sources": [{"id": "wire", "kind": "rss", "url": "https://wire.example/rss"}],
        "topics": [{"id": "t1", "name": "Ceasefire", "query": "ceasefire"}],
        "delivery": delivery or {},
    }
    if telegram is not None:
        document["telegram"].update(token=telegram.token, base_url=telegram.base_url)
    return build_config(document, {})


def post(n: int, *, image: str | None = None) -> Post:
    return Post(
        source_id="wire",
        post_id=f"p{n}",
        text=f"Ceasefire update number {n} from the wire",
        url=f"https://wire.example/{n}",
        author="Wire desk",
        published_at=T0,
        image_url=image,
    )


def add_alerts(
    store: Store,
    numbers: Sequence[int],
    channels: Sequence[str],
    now: datetime,
    *,
    image: str | None = None,
) -> None:
    """Posts `numbers`, each matched and queued for every channel, as one poll stores them."""
    posts = [post(n, image=image) for n in numbers]
    matches = {p.key: [TopicMatch("t1", ("ceasefire",))] for p in posts}
    intents = [AlertIntent(p.source_id, p.post_id, c, ("t1",)) for p in posts for c in channels]
    store.save_poll(SourceState("wire", baseline_done=True), posts, matches, intents, now)


_NUMBER = re.compile(r"wire\.example/(\d+)")


def delivered(telegram: FakeTelegram, chat_id: str | None = None) -> Counter[int]:
    """How many times each post number reached Telegram (digest lines included)."""
    counts: Counter[int] = Counter()
    for call in telegram.sent_messages(chat_id):
        counts.update(int(n) for n in _NUMBER.findall(call.text or ""))
    return counts


@asynccontextmanager
async def delivering(
    store: Store, telegram: FakeTelegram, config: Config, clock: FakeClock, **kwargs: Any
) -> AsyncIterator[Deliverer]:
    """A Deliverer over a real TelegramNotifier, closed afterwards."""
    notifier = TelegramNotifier(Secret(telegram.token), telegram.base_url, **kwargs)
    deliverer = Deliverer(store, notifier, lambda: config, clock=clock.now, sleep=clock.sleep)
    try:
        yield deliverer
    finally:
        await deliverer.aclose()
        await notifier.aclose()


async def run_until(
    deliverer: Deliverer, done: Callable[[], bool], *, timeout: float = 20.0
) -> None:
    """Run the delivery loop until `done()` holds (checked between its steps), then stop it."""
    task = asyncio.create_task(deliverer.run())
    try:
        async with asyncio.timeout(timeout):
            while not done():
                if task.done():
                    task.result()  # the loop died: raise its error
                    raise AssertionError("the delivery loop stopped by itself")
                await asyncio.sleep(0.005)
    finally:
        deliverer.stop()
        await task
