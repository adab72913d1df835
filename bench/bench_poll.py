"""Polling throughput: 1,000 local feeds, 90% answering 304, fetched and parsed.

Ours: the shared HttpClient (httpx over aiohttp) and the rss adapter (lxml fast path, parse off
the event loop). Baseline: plain httpx.AsyncClient and feedparser, as the niche peers do.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta

import feedparser
import httpx

from bench.feedfarm import FeedFarm
from bot.config.settings import NetworkSettings, SourceConfig
from bot.model import SourceState
from bot.net.client import HttpClient
from bot.sources.rss import RssAdapter

FEEDS = 1000
FRESH_SHARE = 0.10  # 10% of feeds changed since the last poll; the rest answer 304
CONCURRENCY = (20, 100)
ROUNDS = 3


def _etag(n: int) -> str | None:
    return None if n % int(1 / FRESH_SHARE) == 0 else f'"feed-{n}"'


async def _ours(farm: FeedFarm, concurrency: int) -> float:
    settings = NetworkSettings(allow_private_addresses=True, timeout=timedelta(seconds=30))
    adapter = RssAdapter()
    now = datetime.now(UTC)
    slots = asyncio.Semaphore(concurrency)
    async with HttpClient(settings) as http:

        async def one(n: int) -> None:
            source = SourceConfig(
                id=f"f{n}",
                kind="rss",
                url=farm.url(n),
                every=timedelta(minutes=5),
                max_age=timedelta(hours=24),
            )
            async with slots:
                await adapter.fetch(source, SourceState(source.id, etag=_etag(n)), http, now)

        await asyncio.gather(*(one(n) for n in range(50)))  # warm the pool
        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(FEEDS)))
        return FEEDS / (time.perf_counter() - started)


async def _baseline(farm: FeedFarm, concurrency: int) -> float:
    slots = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def one(n: int) -> None:
            etag = _etag(n)
            async with slots:
                response = await client.get(
                    farm.url(n), headers={"If-None-Match": etag} if etag else {}
                )
            if response.status_code == 200:
                feedparser.parse(response.content)

        await asyncio.gather(*(one(n) for n in range(50)))
        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(FEEDS)))
        return FEEDS / (time.perf_counter() - started)


def run(results: list[dict[str, object]]) -> None:
    with FeedFarm(feeds=FEEDS, items=50) as farm:
        for concurrency in CONCURRENCY:
            ours = statistics.median(asyncio.run(_ours(farm, concurrency)) for _ in range(ROUNDS))
            base = statistics.median(
                asyncio.run(_baseline(farm, concurrency)) for _ in range(ROUNDS)
            )
            print(
                f"poll {FEEDS} feeds (90% 304), concurrency {concurrency}: "
                f"{ours:,.0f} fetches/s vs baseline {base:,.0f} ({ours / base:.1f}x)"
            )
            results.append(
                {
                    "name": f"poll: 1000 feeds, 90% 304, concurrency {concurrency}",
                    "value": round(ours, 1),
                    "unit": "fetches/s",
                    "baseline": round(base, 1),
                }
            )


if __name__ == "__main__":
    rows: list[dict[str, object]] = []
    run(rows)
