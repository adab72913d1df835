"""The poll loop from outside: `postwatch run --once` over 5,000 and 50,000 rss sources that all
answer 304, beside a raw aiohttp client making the same conditional GETs in the same run.

What the user pays is all of it: the config, the scheduler-free `run --once` fan-out, the
state reads and writes, the HTTP client and its guards. The figure counts from the farm's first
request to its last, so start-up (loading the config, opening the database) is left out and
reported on its own line. The first `run --once` stores each feed's ETag (empty feeds: nothing
to ingest); the second is the measured one, and the farm checks it made one request per source.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from bench.feedfarm import FeedFarm, feed_etag

SIZES = (5_000, 50_000)
CONCURRENCY = 100
POSTWATCH = Path(sys.executable).with_name("postwatch")


def farm_sources(farm: FeedFarm, count: int, prefix: str = "s") -> list[dict[str, str]]:
    return [{"id": f"{prefix}{n}", "kind": "rss", "url": farm.url(n)} for n in range(count)]


def write_config(directory: Path, sources: list[dict[str, str]], **extra: object) -> Path:
    """A config of these sources, a database in `directory`, and `extra` keys (JSON is YAML:
    quick to write and to read)."""
    config = {
        "database_url": f"sqlite:///{directory / 'postwatch.db'}",
        "network": {
            "allow_private_addresses": True,
            "concurrency": CONCURRENCY,
            "timeout": "60s",
        },
        "topics": [{"id": "ceasefire", "name": "Ceasefire", "query": "ceasefire"}],
        "channels": [{"id": "alerts", "chat_id": "@alerts", "topics": ["ceasefire"]}],
        "sources": sources,
        **extra,
    }
    path = directory / "postwatch.yaml"
    path.write_text(json.dumps(config))
    return path


def run_once(config: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    """`postwatch run --once` as a user runs it: wall seconds and the finished process."""
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": ""}
    started = time.perf_counter()
    done = subprocess.run(
        [str(POSTWATCH), "--config", str(config), "run", "--once"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode not in (0, 4):  # 4: a source failed, reported in the counts below
        raise RuntimeError(f"run --once exited {done.returncode}: {done.stderr[-2000:]}")
    return wall, done


async def _raw(farm: FeedFarm, count: int) -> float:
    """The ceiling: aiohttp alone, the same conditional GETs at the same concurrency."""
    slots = asyncio.Semaphore(CONCURRENCY)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(n: int) -> None:
            async with (
                slots,
                session.get(farm.url(n), headers={"If-None-Match": feed_etag(n)}) as answer,
            ):
                await answer.read()
                assert answer.status == 304, answer.status

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(count)))
        return count / (time.perf_counter() - started)


def _polled_rate(farm: FeedFarm, config: Path, count: int) -> tuple[float, float]:
    """(fetches/s from the farm's first request to its last, start-up seconds)."""
    farm.stats(reset=True)
    wall, _done = run_once(config)
    stats = farm.stats(reset=True)
    if stats["304"] != count or stats["requests"] != count:
        raise RuntimeError(f"expected {count} answers of 304, the farm saw {stats}")
    polling = stats["last"] - stats["first"]
    return count / polling, wall - polling


async def _scheduler_cost(jobs: int, rate: int = 2000) -> float:
    """CPU microseconds APScheduler spends per run of one of `jobs` interval jobs that do
    nothing, `rate` runs a second (as postwatch schedules one job per source)."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    scheduler = AsyncIOScheduler(timezone="UTC")
    runs = 0

    async def job() -> None:
        nonlocal runs
        runs += 1

    period = jobs / rate
    now = datetime.now(UTC)
    for n in range(jobs):
        scheduler.add_job(
            job,
            "interval",
            seconds=period,
            id=f"poll:{n}",
            next_run_time=now + timedelta(seconds=1 + period * random.random()),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
    scheduler.start()
    await asyncio.sleep(1 + period)  # every job has run once: the steady state
    before, cpu = runs, time.process_time()
    await asyncio.sleep(5)
    cost = (time.process_time() - cpu) / max(1, runs - before) * 1e6
    scheduler.pause()
    scheduler.shutdown(wait=False)
    return cost


def _daemon_rss(farm: FeedFarm, config: Path, count: int) -> float:
    """MiB resident of `postwatch run` (the daemon) once every source was polled once."""
    farm.stats(reset=True)
    daemon = subprocess.Popen(
        [str(POSTWATCH), "--config", str(config), "run"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TELEGRAM_BOT_TOKEN": ""},
    )
    try:
        deadline = time.monotonic() + 600
        while farm.stats()["requests"] < count and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(2)  # the last polls' states written behind
        status = Path(f"/proc/{daemon.pid}/status").read_text()
        rss_kib = next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")
        )
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
    return rss_kib / 1024


def run(results: list[dict[str, object]]) -> None:
    small, large = SIZES
    costs = [asyncio.run(_scheduler_cost(count)) for count in SIZES]
    print(f"  scheduler: {costs[0]:.0f} / {costs[1]:.0f} µs CPU a run, {small:,} / {large:,} jobs")
    results.append(
        {
            "name": f"scheduler: CPU per job run, {large:,} jobs (vs {small:,})",
            "value": round(costs[1], 1),
            "unit": "µs",
            "baseline": round(costs[0], 1),
        }
    )
    figures: dict[int, float] = {}
    memory: dict[int, float] = {}
    for count in SIZES:
        with FeedFarm(feeds=count, items=0) as farm, tempfile.TemporaryDirectory() as tmp:
            config = write_config(Path(tmp), farm_sources(farm, count))
            first_wall, _ = run_once(config)  # stores every feed's ETag
            raw = asyncio.run(_raw(farm, count))
            ours, startup = _polled_rate(farm, config, count)
            figures[count] = ours
            memory[count] = _daemon_rss(farm, config, count)
            print(
                f"  {count:,} sources: first run {first_wall:.1f}s; all-304 run "
                f"{ours:,.0f} fetches/s (start-up {startup:.1f}s), raw aiohttp {raw:,.0f}/s",
                flush=True,
            )
            results.append(
                {
                    "name": f"poll loop: {count:,} sources all 304, run --once (vs raw aiohttp)",
                    "value": round(ours, 1),
                    "unit": "fetches/s",
                    "baseline": round(raw, 1),
                }
            )
            results.append(
                {
                    "name": f"poll loop: {count:,} sources, run --once start-up and exit",
                    "value": round(startup, 2),
                    "unit": "s",
                    "baseline": None,
                }
            )
    results.append(
        {
            "name": f"poll loop: {large:,} sources vs {small:,} (flat: 1.0)",
            "value": round(figures[large], 1),
            "unit": "fetches/s",
            "baseline": round(figures[small], 1),
        }
    )
    per_source = (memory[large] - memory[small]) * 1024 * 1024 / (large - small)
    print(f"  daemon memory: {memory[small]:.0f} / {memory[large]:.0f} MiB resident", flush=True)
    results.append(
        {
            "name": f"daemon memory per source ({small:,} → {large:,} sources, resident)",
            "value": round(per_source / 1024, 2),
            "unit": "KiB",
            "baseline": None,
        }
    )
