"""Reloading the config of a running bot: a valid file swaps topics, sources and channels in; an
invalid one changes nothing; a topic that fails to compile is disabled while the others match;
and `postwatch run` does it on SIGHUP."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from cli_helpers import write_config

from bot.config.load import load_config
from bot.config.settings import Config
from bot.model import Post, SourceState, TopicConfig
from bot.notify.base import ConsoleNotifier
from bot.runtime.core import Runtime, open_runtime
from bot.runtime.jobs import Jobs
from bot.runtime.reload import Reloader, reload_runtime

FEED = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
    "<item><guid>w1</guid><description>A truce in Ukraine from Monday.</description></item>"
    "</channel></rss>"
)


def document(db_url: str, topics: dict[str, str], sources: tuple[str, ...] = ("wire",)) -> Any:
    return {
        "database_url": db_url,
        "channels": [{"id": "alerts", "chat_id": "@alerts_channel"}],
        "sources": [{"id": s, "kind": "rss", "url": f"https://{s}.example/rss"} for s in sources],
        "topics": [{"id": k, "name": k.title(), "query": q} for k, q in topics.items()],
    }


def post(text: str) -> Post:
    return Post("wire", "1", text)


def matched(runtime: Runtime, text: str) -> dict[str, tuple[str, ...]]:
    return {m.topic_id: m.terms for m in runtime.watchlist.match(post(text), "rss")}


@pytest.fixture
def config_path(tmp_path: Path, db_url: str) -> Path:
    return write_config(tmp_path / "postwatch.yaml", document(db_url, {"ceasefire": "ceasefire"}))


@pytest.fixture
async def runtime(config_path: Path) -> AsyncIterator[Runtime]:
    feed = httpx.MockTransport(lambda request: httpx.Response(200, text=FEED))
    opened = await open_runtime(
        load_config(config_path, {}), transport=feed, notifier=ConsoleNotifier(io.StringIO())
    )
    try:
        yield opened
    finally:
        await opened.close()


def loader(path: Path) -> Callable[[], Config]:
    return lambda: load_config(path, {})


async def test_a_valid_change_swaps_topics_sources_and_channels(
    runtime: Runtime, config_path: Path, db_url: str
) -> None:
    jobs = Jobs(runtime)  # not started: its poll jobs wait, so nothing runs behind the test
    jobs.reschedule_sources()
    old_watchlist, old_wire = runtime.watchlist, runtime.config.sources[0]
    assert matched(runtime, "ceasefire now") == {"ceasefire": ("ceasefire",)}

    write_config(
        config_path,
        document(db_url, {"ceasefire": "truce OR ceasefire", "energy": "grid*"}, ("wire", "extra")),
    )
    report = await reload_runtime(runtime, loader(config_path), jobs)

    assert report.applied and report.problems == () and report.disabled == ()
    assert [t.id for t in runtime.config.topics] == ["ceasefire", "energy"]
    assert matched(runtime, "A truce on the power grids") == {
        "ceasefire": ("truce",),
        "energy": ("grid*",),
    }
    # The old watchlist is untouched: a poll that started before the swap finishes with it.
    assert old_watchlist.topic_ids == ("ceasefire",)
    assert set(jobs.polled_sources) == {"wire", "extra"}
    assert jobs.polled_sources["wire"] is old_wire  # unchanged: its job and timing are kept

    write_config(config_path, document(db_url, {"energy": "grid*"}, ("extra",)))
    assert (await reload_runtime(runtime, loader(config_path), jobs)).applied
    assert set(jobs.polled_sources) == {"extra"}
    assert matched(runtime, "ceasefire on the grid") == {"energy": ("grid*",)}


async def test_polls_after_a_reload_match_and_store_with_the_new_topics(
    runtime: Runtime, config_path: Path, db_url: str
) -> None:
    write_config(config_path, document(db_url, {"truce": '"truce in Ukraine"'}))
    assert (await reload_runtime(runtime, loader(config_path))).applied

    report = await runtime.poll(runtime.config.sources[0])

    assert report.error is None and report.stored == 1
    (row,) = runtime.store.export_posts()
    assert row.terms == {"truce": ('"truce in Ukraine"',)}


async def test_the_old_watchlist_serves_until_the_new_one_is_ready(
    runtime: Runtime, config_path: Path, db_url: str
) -> None:
    reading, release = threading.Event(), threading.Event()

    def slow_load() -> Config:
        reading.set()
        release.wait(timeout=30)
        return load_config(config_path, {})

    write_config(config_path, document(db_url, {"ceasefire": "truce"}))
    reload = asyncio.create_task(reload_runtime(runtime, slow_load))
    await asyncio.to_thread(reading.wait, 30)

    before = runtime.watchlist
    assert matched(runtime, "ceasefire now") == {"ceasefire": ("ceasefire",)}
    report = await runtime.poll(runtime.config.sources[0])  # a poll during the reload
    assert report.stored == 1
    assert next(iter(runtime.store.export_posts())).topics == ()  # matched by the old query

    release.set()
    assert (await reload).applied
    assert runtime.watchlist is not before
    assert matched(runtime, "a truce now") == {"ceasefire": ("truce",)}


async def test_an_invalid_file_is_reported_and_the_running_config_kept(
    runtime: Runtime, config_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    before_config, before_watchlist = runtime.config, runtime.watchlist
    broken = document(db_url, {"ceasefire": "ceasefire AND (Ukraine", "truce": "truce"})
    broken["sources"].append({"id": "wire", "kind": "rsss", "url": "https://x.example/rss"})
    broken["colour"] = "blue"
    write_config(config_path, broken)

    report = await reload_runtime(runtime, loader(config_path))

    assert not report.applied
    assert len(report.problems) >= 3
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    for problem in report.problems:  # every problem, each on its own line
        assert f"config reload: {problem}" in logged
    assert any("topics[0].query" in p and "column 15" in p for p in report.problems)
    assert any("still running the previous config" in line for line in logged)
    assert runtime.config is before_config and runtime.watchlist is before_watchlist
    assert matched(runtime, "ceasefire") == {"ceasefire": ("ceasefire",)}

    config_path.unlink()
    gone = await reload_runtime(runtime, loader(config_path))
    assert not gone.applied and "file not found" in gone.problems[0]
    assert runtime.config is before_config


async def test_a_topic_that_fails_to_compile_is_disabled_while_the_others_match(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    # load_config refuses such a file outright; the watchlist still guards against a topic
    # that reaches it and does not compile (one bad topic must never take the others down).
    caplog.set_level(logging.INFO, logger="bot")
    topics = (
        TopicConfig("broken", "Broken", "(truce OR Gaza"),
        TopicConfig("truce", "Truce", "truce"),
    )
    config = replace(runtime.config, topics=topics)

    report = await reload_runtime(runtime, lambda: config)

    assert report.applied
    assert [(p.topic_id, p.error.column) for p in report.disabled] == [("broken", 1)]
    assert runtime.watchlist.topic_ids == ("truce",)
    assert matched(runtime, "a truce") == {"truce": ("truce",)}
    assert "config reload: topic broken disabled: unbalanced parenthesis at column 1" in [
        r.getMessage() for r in caplog.records
    ]


async def test_settings_opened_at_start_keep_their_value_until_a_restart(
    runtime: Runtime,
    config_path: Path,
    db_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="bot")
    changed = document(f"sqlite:///{tmp_path / 'elsewhere.db'}", {"truce": "truce"})
    changed["network"] = {"timeout": "3s"}
    write_config(config_path, changed)

    report = await reload_runtime(runtime, loader(config_path))

    assert report.applied and report.kept == ("database_url", "network")
    assert runtime.config.database_url == db_url
    assert runtime.config.network.timeout.total_seconds() == 20
    assert [t.id for t in runtime.config.topics] == ["truce"]  # the rest is applied
    assert "config reload: database_url changed; restart postwatch to apply it" in caplog.text


async def test_requests_during_a_reload_run_one_more_with_the_latest_file(
    runtime: Runtime, config_path: Path, db_url: str
) -> None:
    calls, release = [], threading.Event()

    def load() -> Config:
        calls.append(1)
        release.wait(timeout=30)
        return load_config(config_path, {})

    reloader = Reloader(runtime, None, load)
    reloader.request()
    for _ in range(3):  # three more signals while the first reload is still reading
        await asyncio.sleep(0)
        reloader.request()
    write_config(config_path, document(db_url, {"last": "last"}))
    release.set()
    await reloader.wait()

    assert len(calls) == 2
    assert [t.id for t in runtime.config.topics] == ["last"]


class Lines:
    """A subprocess's stderr lines, read on a thread so a test can wait with a timeout."""

    def __init__(self, stream: IO[str]) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._stream = stream
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        for line in self._stream:
            self._queue.put(line)

    def close(self) -> None:
        """Once the process has exited: the pipe is at its end, so the reader stops."""
        self._thread.join(timeout=30)
        self._stream.close()

    def wait_for(self, text: str, timeout: float = 30) -> str:
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no {text!r} in:\n{''.join(self.seen)}") from None
            self.seen.append(line)
            if text in line:
                return line


def test_postwatch_run_reloads_on_sighup(tmp_path: Path) -> None:
    path = tmp_path / "postwatch.yaml"
    first = document(f"sqlite:///{tmp_path / 'pw.db'}", {"ceasefire": "ceasefire"})
    first["sources"][0]["enabled"] = False  # nothing to fetch: this is about the signal
    write_config(path, first)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--config", str(path), "run"],
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith(("POSTWATCH_", "TELEGRAM"))},
    )
    assert process.stderr is not None
    lines = Lines(process.stderr)
    try:
        lines.wait_for("postwatch running")

        second = document(first["database_url"], {"ceasefire": "ceasefire", "truce": "truce"})
        second["sources"][0]["enabled"] = False
        write_config(path, second)
        process.send_signal(signal.SIGHUP)
        assert "topics 2 (+1 -0 ~0)" in lines.wait_for("config reloaded")

        write_config(path, {**second, "topics": [{"id": "bad", "query": "(truce"}]})
        process.send_signal(signal.SIGHUP)
        lines.wait_for("topics[0].query: unbalanced parenthesis at column 1")
        lines.wait_for("still running the previous config")

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        lines.close()


async def test_a_topic_added_by_a_reload_matches_the_posts_already_stored(
    runtime: Runtime, config_path: Path, db_url: str
) -> None:
    assert (await runtime.poll(runtime.config.sources[0])).stored == 1  # matched nothing
    write_config(config_path, document(db_url, {"ceasefire": "monday", "truce": "truce"}))
    assert (await reload_runtime(runtime, loader(config_path))).applied

    (row,) = runtime.store.export_posts()
    assert row.terms == {"ceasefire": ("monday",), "truce": ("truce",)}  # changed, and added
    assert runtime.store.outbox_counts().get("pending", 0) == 0  # matched, never alerted
    write_config(config_path, document(db_url, {"ceasefire": "ceasefire", "truce": "truce"}))
    assert (await reload_runtime(runtime, loader(config_path))).applied
    (row,) = runtime.store.export_posts()
    assert row.terms == {"truce": ("truce",)}  # the changed query no longer matches it


async def test_a_reload_that_changes_a_source_lifts_its_backoff(
    runtime: Runtime, config_path: Path, db_url: str
) -> None:
    later = runtime.clock() + timedelta(hours=5)
    for source_id in ("wire", "other"):
        state = SourceState(source_id, failures=4, last_error="HTTP 404", next_poll_at=later)
        runtime.store.save_state(state, runtime.clock())
    changed = document(db_url, {"ceasefire": "ceasefire"}, ("wire", "other"))
    changed["sources"][0]["url"] = "https://wire.example/fixed/rss"
    write_config(config_path, document(db_url, {"ceasefire": "ceasefire"}, ("wire", "other")))
    assert (await reload_runtime(runtime, loader(config_path))).applied
    write_config(config_path, changed)
    assert (await reload_runtime(runtime, loader(config_path))).applied

    states = runtime.store.load_states()
    assert (states["wire"].failures, states["wire"].next_poll_at) == (0, None)
    assert (states["other"].failures, states["other"].next_poll_at) == (4, later)
