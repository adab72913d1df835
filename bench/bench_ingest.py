"""Ingest from outside: `postwatch run --once` storing 10,000 fresh posts (100 feeds of 100
items, 10 topics), beside the naive pipeline measured in the same run, and again with 100,000
posts already in the stories window.

The naive pipeline is what the niche peers do: fetch each feed, feedparser, a loop of `in`
checks per topic, and one transaction per post (look it up, insert it, commit). Ours is the
whole command: start-up, fetch, parse, classify, stories, storage and exit.

While postwatch runs, a probe thread takes SQLite's write lock every few milliseconds and
records its longest wait: what any other writer (a second worker, an admin command) would
wait for, so an upper bound on postwatch's longest write transaction plus SQLite's own polling.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import aiohttp
import feedparser

from bench.bench_pipeline import _query, synthetic_topics
from bench.bench_pollloop import farm_sources, run_once, write_config
from bench.feedfarm import FeedFarm
from bot.store.database import Store

FEEDS, ITEMS = 100, 100  # 10,000 posts
PRELOAD_FEEDS = 1_000  # x ITEMS = 100,000 posts in the window before the second ingest
TOPICS = 10


def _topics() -> list[dict[str, str]]:
    return [
        {"id": f"t{n}", "name": f"Topic {n}", "query": _query(groups)}
        for n, groups in enumerate(synthetic_topics(TOPICS))
    ]


class _WriteProbe:
    """Takes the write lock of `path` over and over; `longest` is the longest wait for it."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stop = threading.Event()
        self.longest = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _WriteProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        db = sqlite3.connect(self._path, timeout=120, isolation_level=None)
        while not self._stop.is_set():
            started = time.perf_counter()
            db.execute("BEGIN IMMEDIATE")
            self.longest = max(self.longest, time.perf_counter() - started)
            db.execute("COMMIT")
            time.sleep(0.005)
        db.close()


def _ingest(directory: Path, farm: FeedFarm, prefix: str) -> tuple[float, float]:
    """posts/s of one `run --once` storing every item of `farm`, and the probe's longest wait."""
    config = write_config(
        directory,
        farm_sources(farm, farm.feeds, prefix),
        topics=_topics(),
        channels=[{"id": "alerts", "chat_id": "@alerts", "topics": ["t0"]}],
    )
    Store.open(f"sqlite:///{directory / 'postwatch.db'}").close()  # the probe needs the file
    with _WriteProbe(directory / "postwatch.db") as probe:
        wall, done = run_once(config)
    posts = farm.feeds * farm.items
    if f"{posts:,} new posts" not in done.stderr:
        raise RuntimeError(f"expected {posts:,} new posts: {done.stderr[-1500:]}")
    return posts / wall, probe.longest


async def _fetch_all(farm: FeedFarm) -> list[bytes]:
    async with aiohttp.ClientSession() as session:

        async def one(n: int) -> bytes:
            async with session.get(farm.url(n)) as answer:
                return await answer.read()

        return await asyncio.gather(*(one(n) for n in range(farm.feeds)))


def _naive(directory: Path, farm: FeedFarm) -> float:
    topics = synthetic_topics(TOPICS)
    started = time.perf_counter()
    db = sqlite3.connect(directory / "naive.db")
    db.execute("CREATE TABLE post (source TEXT, id TEXT, text TEXT, topics TEXT)")
    db.execute("CREATE UNIQUE INDEX post_key ON post (source, id)")
    stored = 0
    for n, body in enumerate(asyncio.run(_fetch_all(farm))):
        for entry in feedparser.parse(body).entries:
            text = f"{entry.get('title', '')} {entry.get('summary', '')}"
            lowered = text.lower()
            hits = [
                str(i)
                for i, (first, second) in enumerate(topics)
                if any(w in lowered for w in first) and any(w in lowered for w in second)
            ]
            key = (f"n{n}", entry.get("id", ""))
            if db.execute("SELECT 1 FROM post WHERE source = ? AND id = ?", key).fetchone():
                continue
            db.execute("INSERT INTO post VALUES (?, ?, ?, ?)", (*key, text, ",".join(hits)))
            db.commit()
            stored += 1
    db.close()
    return stored / (time.perf_counter() - started)


def run(results: list[dict[str, object]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        empty, preloaded = Path(tmp) / "empty", Path(tmp) / "preloaded"
        empty.mkdir()
        preloaded.mkdir()
        with FeedFarm(feeds=FEEDS, items=ITEMS, seed=3) as farm:
            naive = _naive(Path(tmp), farm)
            ours, longest = _ingest(empty, farm, "s")
        print(f"  empty window: {ours:,.0f} posts/s (naive {naive:,.0f}/s)", flush=True)
        with FeedFarm(feeds=PRELOAD_FEEDS, items=ITEMS, seed=4, first=FEEDS) as farm:
            started = time.perf_counter()
            _ingest(preloaded, farm, "p")
            print(f"  preloaded 100,000 posts in {time.perf_counter() - started:.0f}s", flush=True)
        with FeedFarm(feeds=FEEDS, items=ITEMS, seed=3) as farm:
            full, longest_full = _ingest(preloaded, farm, "s")
        print(f"  100,000 in the window: {full:,.0f} posts/s", flush=True)
    rows = (
        ("ingest: 10,000 fresh posts, 10 topics, run --once (vs naive)", ours, naive, "posts/s"),
        ("ingest: with 100,000 posts in the window (vs empty window)", full, ours, "posts/s"),
        ("ingest: longest wait for the write lock", max(longest, longest_full), None, "s"),
    )
    for name, value, baseline, unit in rows:
        results.append(
            {
                "name": name,
                "value": round(value, 3 if unit == "s" else 1),
                "unit": unit,
                "baseline": None if baseline is None else round(baseline, 1),
            }
        )
