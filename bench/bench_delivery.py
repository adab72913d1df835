"""Delivery under Telegram's flood limits: 1,000 alerts across 50 channels, drained from a real
SQLite outbox through python-telegram-bot to the fake Bot API server enforcing the limits
(tests/fakes, run in its own process so it does not share our interpreter).

The limits are Telegram's published ones (30 messages/s overall, 20/min per group or channel,
1/s per chat) scaled up SCALE times, on both sides, so the run takes seconds: the ratio is taken
against the limits in force. "Minimum" is the drain time of an ideal sender with no latency
that the server never refuses (a greedy schedule against the server's own sliding windows).
SCALE stays where our own ceiling (measured too: limits raised 100x, i.e. unpaced) is well
above the limit rate, as it is at Telegram's real limits (30/s); at 10x the 300/s limit is
about this machine's ceiling, and the ratio would measure the CPU, not the pacing.

Ours: `Deliverer.drain` (paced, one request on the wire). Baseline: what the niche peers do —
send as fast as possible, and on a 429 sleep retry_after and try again.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from telegram import Bot
from telegram.error import RetryAfter
from telegram.request import HTTPXRequest

from bot.config.build import build_config
from bot.config.settings import Secret
from bot.deliver.loop import Deliverer
from bot.model import AlertIntent, Post, SourceState, TopicMatch
from bot.notify.telegram import TelegramNotifier
from bot.store.database import Store

TESTS = Path(__file__).parents[1] / "tests"
ALERTS, CHANNELS = 1000, 50
SCALE = 3
CEILING_SCALE = 100  # limits this high never bind: our unpaced rate
# Telegram's FAQ figures: (messages, window seconds).
OVERALL, PER_CHAT, PER_GROUP = (30, 1.0), (1, 1.0), (20, 60.0)


def _scaled(limit: tuple[int, float], scale: int = SCALE) -> tuple[int, float]:
    return (limit[0] * scale, limit[1])


def _serve(conn: Connection, scale: int) -> None:
    """The fake Bot API server, in a child process, answering the parent's questions."""
    sys.path.insert(0, str(TESTS))
    from fakes.telegram_api import FakeTelegram
    from fakes.telegram_rules import Limits

    limits = Limits(
        overall=_scaled(OVERALL, scale),
        private=_scaled(PER_CHAT, scale),
        group=_scaled(PER_GROUP, scale),
    )
    with FakeTelegram(enforce_limits=True, limits=limits) as server:
        conn.send((server.base_url, server.token))
        while conn.recv() != "stop":
            sent = server.sent_messages()
            conn.send((server.throttled, len(sent), len({(c.chat_id, c.text) for c in sent})))


class FakeServer:
    def __init__(self, scale: int = SCALE) -> None:
        self.scale = scale

    def __enter__(self) -> FakeServer:
        self._conn, child = multiprocessing.Pipe()
        spawn = multiprocessing.get_context("spawn")
        self._process = spawn.Process(target=_serve, args=(child, self.scale))
        self._process.start()
        self.base_url, self.token = self._conn.recv()
        return self

    def counts(self) -> tuple[int, int, int]:
        """(429s answered, messages accepted, distinct messages accepted)."""
        self._conn.send("report")
        throttled, sent, distinct = self._conn.recv()
        return throttled, sent, distinct

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self._process.join(10)


def minimum_drain() -> float:
    """Seconds from the first to the last message of an ideal sender (zero latency, sends the
    moment the server's sliding windows allow), round-robin over the channels."""
    sys.path.insert(0, str(TESTS))
    from fakes.telegram_rules import Limits, RateLimiter

    limiter = RateLimiter(
        Limits(overall=_scaled(OVERALL), private=_scaled(PER_CHAT), group=_scaled(PER_GROUP))
    )
    now, step = 0.0, 0.001
    for n in range(ALERTS):
        chat = f"-100{n % CHANNELS + 1:010d}"
        while limiter.admit(chat, now) is not None:
            now += step
    return now


def _fill(store: Store) -> None:
    now = datetime.now(UTC)
    posts = [
        Post("wire", f"p{n}", f"Ceasefire update {n}", url=f"https://wire.example/{n}")
        for n in range(ALERTS // CHANNELS)
    ]
    matches = {p.key: [TopicMatch("t1", ("ceasefire",))] for p in posts}
    intents = [
        AlertIntent("wire", p.post_id, f"c{c}", ("t1",)) for p in posts for c in range(CHANNELS)
    ]
    store.save_poll(SourceState("wire", baseline_done=True), posts, matches, intents, now)


async def _ours(server: FakeServer, db: Path) -> float:
    rate = lambda limit: f"{limit[0] * server.scale}/{int(limit[1])}s"  # noqa: E731
    config = build_config(
        {
            "database_url": f"sqlite:///{db}",
            "telegram": {"token": server.token, "base_url": server.base_url},
            "delivery": {
                "burst": 10_000,  # one message per alert: this measures pacing, not digests
                "limits": {
                    "overall": rate(OVERALL),
                    "per_chat": rate(PER_CHAT),
                    "per_group": rate(PER_GROUP),
                },
            },
            "channels": [{"id": f"c{c}", "chat_id": f"-100{c + 1:010d}"} for c in range(CHANNELS)],
            "sources": [{"id": "wire", "kind": "rss", "url": "https://wire.example/rss"}],
            "topics": [{"id": "t1", "query": "ceasefire"}],
        },
        {},
    )
    store = Store.open(config.database_url)
    _fill(store)
    notifier = TelegramNotifier(Secret(server.token), server.base_url)
    deliverer = Deliverer(store, notifier, lambda: config, clock=lambda: datetime.now(UTC))
    started = time.perf_counter()
    report = await deliverer.drain()
    elapsed = time.perf_counter() - started
    await deliverer.aclose()
    await notifier.aclose()
    store.close()
    assert report.sent == ALERTS, report
    return elapsed


async def _naive(server: FakeServer) -> float:
    request = HTTPXRequest(connection_pool_size=8)
    bot = Bot(server.token, base_url=server.base_url, request=request)
    started = time.perf_counter()
    for n in range(ALERTS):
        while True:
            try:
                await bot.send_message(f"-100{n % CHANNELS + 1:010d}", f"Ceasefire update {n}")
                break
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
    elapsed = time.perf_counter() - started
    await request.shutdown()
    return elapsed


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def run(results: list[dict[str, object]]) -> None:
    import os
    import warnings

    os.environ.setdefault("PTB_TIMEDELTA", "1")  # the naive sender reads RetryAfter itself
    warnings.filterwarnings("ignore", module="telegram")
    minimum = minimum_drain()
    with tempfile.TemporaryDirectory() as tmp, FakeServer() as server:
        ours = asyncio.run(_ours(server, Path(tmp) / "bench.db"))
        ours_429, ours_sent, ours_distinct = server.counts()
    with tempfile.TemporaryDirectory() as tmp, FakeServer(CEILING_SCALE) as server:
        ceiling = ALERTS / asyncio.run(_ours(server, Path(tmp) / "bench.db"))
    with FakeServer() as server:
        naive = asyncio.run(_naive(server))
        naive_429, _, _ = server.counts()
    limit_rate = OVERALL[0] * SCALE
    print(
        f"limits in force: Telegram's x{SCALE} ({limit_rate}/s overall, "
        f"{PER_GROUP[0] * SCALE}/min per group, {PER_CHAT[0] * SCALE}/s per chat); "
        f"minimum drain {minimum:.2f}s"
    )
    print(
        f"ours: {ours:.2f}s ({ALERTS / ours:.0f} msg/s, {minimum / ours:.2f} of the limit rate), "
        f"{ours_429} x 429, {ours_sent} messages ({ours_distinct} distinct)"
    )
    print(f"naive: {naive:.2f}s ({minimum / naive:.2f} of the limit rate), {naive_429} x 429")
    print(
        f"our ceiling (limits x{CEILING_SCALE}, never binding): {ceiling:.0f} msg/s, "
        f"{ceiling / OVERALL[0]:.1f}x Telegram's overall limit"
    )
    name = f"deliver {ALERTS:,} alerts to {CHANNELS} channels (limits x{SCALE})"
    results += [
        {"name": f"{name}: drain time", "value": round(ours, 2), "unit": "s",
         "baseline": round(naive, 2)},
        {"name": f"{name}: share of limit rate", "value": round(minimum / ours, 3),
         "unit": "min drain / drain", "baseline": round(minimum / naive, 3)},
        {"name": f"{name}: 429 answers", "value": ours_429, "unit": "count",
         "baseline": naive_429},
        {"name": f"{name}: minimum drain the limits allow", "value": round(minimum, 2),
         "unit": "s", "baseline": None},
        {"name": "deliver: unpaced ceiling (limits x100)", "value": round(ceiling, 1),
         "unit": "msg/s", "baseline": float(OVERALL[0])},
    ]  # fmt: skip


if __name__ == "__main__":
    rows: list[dict[str, object]] = []
    run(rows)
