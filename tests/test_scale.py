"""Speed at scale, held as behaviour (issue 12): a poll reads only its own source's state, what
polls record is written in batches, a large poll commits in chunks, and two processes storing
large polls into one SQLite database both finish. Figures live in bench/, never here."""

from __future__ import annotations

import io
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cli_helpers import write_config
from db_helpers import impatient_store, write_locked
from fakes.feed_server import FeedServer

from bot.config.load import load_config
from bot.model import Post, SourceState
from bot.notify.base import ConsoleNotifier
from bot.runtime.core import open_runtime
from bot.runtime.run import run_once
from bot.store import database
from bot.store.database import Store
from bot.store.state_book import StateBook

SOURCES = 120
T0 = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)


def rss(feed: int, items: int) -> str:
    entries = "".join(
        f"<item><guid>{feed}-{n}</guid><title>Feed {feed} item {n}</title>"
        f"<description>Report {n} from feed {feed}: grid repairs in district {n % 97}."
        f"</description></item>"
        for n in range(items)
    )
    channel = f"<channel><title>F{feed}</title>{entries}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


def config_of(db_url: str, feeds: FeedServer, paths: list[str]) -> dict[str, Any]:
    return {
        "database_url": db_url,
        "network": {"allow_private_addresses": True, "concurrency": 20},
        "channels": [{"id": "alerts", "chat_id": "@alerts_channel"}],
        "topics": [{"id": "grid", "name": "Grid", "query": "grid"}],
        "sources": [
            {"id": path.strip("/").replace(".xml", ""), "kind": "rss", "url": feeds.url(path)}
            for path in paths
        ],
    }


@contextmanager
def statements(store: Store) -> Iterator[Counter[str]]:
    """The statements the store's engine sends, by verb and table: the database's own view."""
    seen: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        text = " ".join(sql.split()).lower()
        verb = text.split(" ", 1)[0]
        if "source_state" in text:
            seen[f"{verb} source_state"] += 1

    engine = store._engine  # listened to, not replaced
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


async def one_run(config_path: Path) -> tuple[int, Counter[str]]:
    config = load_config(config_path, {})
    runtime = await open_runtime(config, notifier=ConsoleNotifier(io.StringIO()))
    with statements(runtime.store) as seen:
        try:
            reports, _delivery = await run_once(runtime)
        finally:
            await runtime.close()  # writes the states still waiting
    return sum(1 for r in reports if r.not_modified), seen


async def test_a_cycle_reads_the_states_once_and_writes_them_in_batches(
    db_url: str, tmp_path: Path
) -> None:
    with FeedServer() as feeds:
        paths = [f"/f{n}.xml" for n in range(SOURCES)]
        for n, path in enumerate(paths):
            feeds.route(path, rss(n, 1))
        config_path = write_config(tmp_path / "pw.yaml", config_of(db_url, feeds, paths))
        await one_run(config_path)  # baselines: each feed's post and ETag stored
        not_modified, seen = await one_run(config_path)

    assert not_modified == SOURCES
    # The table was read once as the runtime opened; no poll reads it (that was N² rows) ...
    assert seen["select source_state"] == 0
    # ... and the 304s recorded in one batch, not a transaction per poll.
    assert seen["insert source_state"] == 1
    with Store.open(db_url) as store:
        states = store.load_states()
    assert len(states) == SOURCES
    assert all(s.etag and s.baseline_done and not s.failures for s in states.values())


async def test_without_a_book_a_poll_reads_one_row(db_url: str, tmp_path: Path) -> None:
    with Store.open(db_url) as store:
        for n in range(50):
            store.save_state(SourceState(f"other{n}", etag=f'"{n}"'), T0)
        with statements(store) as seen:
            state = store.load_state("other7")
            blank = store.load_state("never-polled")
    assert state.etag == '"7"'
    assert blank == SourceState("never-polled")
    assert seen["select source_state"] == 2


def test_a_batch_written_behind_never_undoes_a_newer_poll(store: Store) -> None:
    book = StateBook.load(store)
    book.record(SourceState("wire", etag='"old"'), T0)
    # Meanwhile a poll that stored posts wrote its newer state in its own transaction.
    store.save_state(SourceState("wire", etag='"new"', baseline_done=True), T0 + timedelta(1))
    assert book.flush() == 1
    assert store.load_states()["wire"].etag == '"new"'


def test_a_batch_the_database_refuses_waits_for_the_next_flush(db_url: str) -> None:
    with impatient_store(db_url) as store:
        book = StateBook.load(store)
        book.record(SourceState("wire", etag='"one"'), T0)
        with write_locked(db_url, "source_state"):
            assert book.flush() == 0  # logged, not raised: a 304 lost nothing
        assert book.waiting == 1
        assert book.flush() == 1
        assert store.load_states()["wire"].etag == '"one"'


def test_a_large_poll_commits_in_chunks_the_state_with_the_last(store: Store) -> None:
    posts = [Post("wire", f"p{n}", f"Report {n}: grid repairs") for n in range(1000)]
    commits: list[object] = []

    def committed(session: Any) -> None:
        commits.append(session)

    sa.event.listen(sa.orm.Session, "after_commit", committed)
    try:
        saved = store.save_poll(SourceState("wire", etag='"v1"'), posts, {}, [], T0)
    finally:
        sa.event.remove(sa.orm.Session, "after_commit", committed)
    assert len(saved.posts) == 1000
    assert len(commits) == 1000 // database.POLL_CHUNK
    assert store.load_states()["wire"].etag == '"v1"'


def test_a_locked_write_is_tried_again_not_raised(db_url: str) -> None:
    """SQLite answers "database is locked" at once, without waiting, when a transaction's
    snapshot went stale; the poll's write is then tried again instead of failing the poll."""
    with impatient_store(db_url) as store:
        tries: list[int] = []

        def work(session: Any) -> str:
            tries.append(1)
            if len(tries) == 1:
                with write_locked(db_url, "source_state"):
                    database.queries.upsert_state(session, SourceState("wire"), T0)
            database.queries.upsert_state(session, SourceState("wire", etag='"x"'), T0)
            return "written"

        assert store._write(work) == "written"
    assert len(tries) == 2


@pytest.mark.timeout(600)
def test_two_processes_storing_large_polls_into_one_sqlite_database(tmp_path: Path) -> None:
    """A 20,000-item feed and a 5,000-item one, polled by two `postwatch run --once` at once:
    both finish, every post is stored, nobody sees "database is locked" (issue 12: one poll
    transaction of 2,000 posts held the lock past the other writer's 15 s)."""
    db_url = f"sqlite:///{tmp_path / 'shared.db'}"
    Store.open(db_url).close()  # migrated once, before both start
    with FeedServer() as feeds:
        feeds.route("/big.xml", rss(1, 20_000))
        feeds.route("/other.xml", rss(2, 5_000))
        configs = [
            write_config(tmp_path / f"{name}.yaml", config_of(db_url, feeds, [f"/{name}.xml"]))
            for name in ("big", "other")
        ]
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "--config", str(path), "run", "--once"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for path in configs
        ]
        outputs = [run.communicate(timeout=540) for run in runs]
    for run, (_out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err[-3000:]
        assert "locked" not in err
        assert "Traceback" not in err
    with Store.open(db_url) as store:
        stored = Counter(row.source for row in store.export_posts())
        states = store.load_states()
    assert stored == {"big": 20_000, "other": 5_000}
    assert states["big"].baseline_done and states["other"].baseline_done


def test_a_reload_lifts_a_backoff_held_in_the_book_and_waiting_in_it(store: Store) -> None:
    later = T0 + timedelta(hours=5)
    store.save_state(SourceState("fixed", failures=3, next_poll_at=later), T0)
    book = StateBook.load(store)
    book.record(SourceState("waiting", failures=2, next_poll_at=later), T0)
    store.reset_backoff(["fixed", "waiting"])
    book.reset_backoff(["fixed", "waiting"])
    for source_id in ("fixed", "waiting"):
        assert (book.get(source_id).failures, book.get(source_id).next_poll_at) == (0, None)
    book.flush()  # what waited is written lifted, not with the backoff it had
    assert store.load_states()["waiting"].next_poll_at is None
