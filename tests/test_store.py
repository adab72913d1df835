"""Store contract tests: the same assertions against real SQLite and real PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import bot
from bot.errors import StoreError
from bot.model import AlertIntent, Post, SourceState, TopicMatch
from bot.store.database import Store
from bot.store.tables import metadata

ROOT = Path(bot.__file__).parents[1]  # the subprocesses import bot from this checkout
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def post(n: int, source: str = "src", published: datetime | None = T0) -> Post:
    return Post(
        source_id=source,
        post_id=f"p{n}",
        text=f"post number {n}",
        url=f"https://example.org/{n}",
        author="someone",
        title=None,
        published_at=published,
        lang="en",
    )


def alert(p: Post, channel: str = "news", topics: Sequence[str] = ("t1",)) -> AlertIntent:
    return AlertIntent(p.source_id, p.post_id, channel, tuple(topics))


def save(
    store: Store,
    posts: Sequence[Post],
    *,
    channels: Sequence[str] = ("news",),
    now: datetime = T0,
    source: str = "src",
) -> list[Post]:
    """A poll in which every post matched topic t1 and alerts every channel."""
    matches = {p.key: [TopicMatch("t1", ("ceasefire",))] for p in posts}
    alerts = [alert(p, c) for p in posts for c in channels]
    return store.save_poll(
        SourceState(source, baseline_done=True), posts, matches, alerts, now
    ).posts


@contextmanager
def crash_on(store: Store, sql_prefix: str) -> Iterator[None]:
    """Make the database connection fail when a statement starting with `sql_prefix` runs,
    as a crash or a lost connection would in the middle of a transaction."""

    def fail(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(sql_prefix):
            raise RuntimeError("simulated crash")

    engine = store._engine
    sa.event.listen(engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        sa.event.remove(engine, "before_cursor_execute", fail)


def test_open_twice_keeps_schema_and_rows(db_url: str) -> None:
    first = Store.open(db_url)
    assert save(first, [post(1)]) == [post(1)]
    first.close()
    again = Store.open(db_url)
    try:
        assert again.dialect == ("sqlite" if db_url.startswith("sqlite") else "postgresql")
        assert again.known_post_ids("src", ["p1", "p2"]) == {"p1"}
    finally:
        again.close()


def test_migrated_schema_matches_the_models(store: Store, db_url: str) -> None:
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
    engine.dispose()


def test_processes_starting_together_both_migrate(db_url: str) -> None:
    # Each process imports first and says so; then both open the database at the same moment.
    code = (
        "import sys; from bot.store.database import Store; print('ready', flush=True);"
        " sys.stdin.read(); Store.open(sys.argv[1]).close()"
    )
    with ExitStack() as stack:
        procs = [
            stack.enter_context(
                subprocess.Popen(
                    [sys.executable, "-c", code, db_url],
                    cwd=ROOT,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
            )
            for _ in range(2)
        ]
        for p in procs:
            assert p.stdout is not None
            assert p.stdout.readline() == b"ready\n"
        for p in procs:
            assert p.stdin is not None
            p.stdin.close()  # end of input: go
        codes = [p.wait(timeout=60) for p in procs]
        errors = [p.stderr.read().decode() if p.stderr else "" for p in procs]
    assert codes == [0, 0], errors
    store = Store.open(db_url)
    assert store.outbox_counts() == {"pending": 0, "sent": 0, "failed": 0}
    store.close()


def test_save_poll_returns_only_new_posts(store: Store) -> None:
    assert save(store, [post(1), post(2)]) == [post(1), post(2)]
    assert save(store, [post(1), post(2)]) == []
    assert save(store, [post(3), post(2), post(4)]) == [post(3), post(4)]
    # The same id in another source is a different post.
    assert save(store, [post(1, source="other")], source="other") == [post(1, source="other")]
    assert store.known_post_ids("src", ["p1", "p4", "p9"]) == {"p1", "p4"}
    # Its text repeats src's p1: the same story, so no second alert in the channel.
    assert store.outbox_counts()["pending"] == 4


def test_alerts_and_matches_only_for_inserted_posts(store: Store) -> None:
    save(store, [post(1)])
    store.save_poll(
        SourceState("src"),
        [post(1), post(2)],
        {post(1).key: [TopicMatch("t9", ("late",))], post(2).key: [TopicMatch("t1", ("x",))]},
        [alert(post(1), "other"), alert(post(2), "news"), alert(post(2), "news")],
        T0,
    )
    due = store.pending_alerts(T0)
    assert [(i.post.post_id, i.channel_id) for i in due] == [("p1", "news"), ("p2", "news")]
    assert [r.topics for r in store.export_posts()] == [("t1",), ("t1",)]


def test_known_post_ids_handles_long_lists(store: Store) -> None:
    save(store, [post(n) for n in range(0, 3000, 2)], channels=())
    asked = [f"p{n}" for n in range(3000)]
    assert store.known_post_ids("src", asked) == {f"p{n}" for n in range(0, 3000, 2)}


def test_two_thousand_posts_in_one_poll(store: Store) -> None:
    posts = [post(n) for n in range(2000)]
    assert len(save(store, posts)) == 2000
    assert store.outbox_counts()["pending"] == 2000
    exported = list(store.export_posts())  # streamed in several batches
    assert len(exported) == 2000
    assert all(row.topics == ("t1",) for row in exported)


def save_concurrently(store: Store, batches: Sequence[Sequence[Post]]) -> list[list[Post]]:
    """Run one save_poll per batch, each in its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(batches))
    results: list[list[Post]] = [[] for _ in batches]

    def run(i: int) -> None:
        barrier.wait()
        results[i] = save(store, batches[i], channels=("news", "alerts"))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(batches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_polls_store_each_post_once(store: Store) -> None:
    for base in (0, 1000, 2000):
        first, second = save_concurrently(
            store,
            [
                [post(base + n) for n in range(60)],
                [post(base + n) for n in reversed(range(30, 90))],  # opposite order
            ],
        )
        keys = [p.key for p in first + second]
        assert len(keys) == len(set(keys)) == 90
    due = store.pending_alerts(T0, limit=1000)
    assert len(due) == 3 * 90 * 2
    assert len({(i.post.key, i.channel_id) for i in due}) == len(due)


def test_source_state_round_trip(store: Store) -> None:
    plus_two = timezone(timedelta(hours=2))
    state = SourceState(
        source_id="masto",
        etag='W/"abc"',
        last_modified="Sat, 01 Mar 2025 12:00:00 GMT",
        cursor={"account_id": "1091", "since_id": "113"},
        baseline_done=True,
        failures=3,
        last_error="x" * 50_000,
        next_poll_at=datetime(2025, 3, 1, 15, 30, 15, 250, tzinfo=plus_two),
    )
    store.save_state(state, T0)
    loaded = store.load_states()["masto"]
    assert loaded.next_poll_at == state.next_poll_at
    assert loaded.next_poll_at is not None
    assert loaded.next_poll_at.utcoffset() == timedelta(0)
    assert loaded.last_error is not None
    assert 100 <= len(loaded.last_error) < 50_000
    assert dict(loaded.cursor) == {"account_id": "1091", "since_id": "113"}
    assert (loaded.etag, loaded.last_modified, loaded.baseline_done, loaded.failures) == (
        state.etag,
        state.last_modified,
        True,
        3,
    )
    # A later poll replaces the whole state, clearing what it no longer has.
    store.save_poll(SourceState("masto", cursor={"since_id": "200"}), [], {}, [], T0)
    assert store.load_states() == {"masto": SourceState("masto", cursor={"since_id": "200"})}


def test_outbox_transitions(store: Store) -> None:
    save(store, [post(1), post(2), post(3)])
    first, second, third = store.pending_alerts(T0)
    assert (first.attempts, first.created_at, first.terms) == (0, T0, ("ceasefire",))
    assert first.post == post(1)

    store.mark_retry(first.alert_id, "429 Too Many Requests", T0 + timedelta(minutes=5))
    store.mark_sent(second.alert_id, 2**40, T0)  # message ids need BIGINT on PostgreSQL
    store.mark_failed(third.alert_id, "chat not found", T0)

    assert store.pending_alerts(T0 + timedelta(minutes=4)) == []
    (retried,) = store.pending_alerts(T0 + timedelta(minutes=5))
    assert (retried.alert_id, retried.attempts) == (first.alert_id, 1)
    assert store.outbox_counts() == {"pending": 1, "sent": 1, "failed": 1}


def test_pending_alerts_order_limit_and_terms(store: Store) -> None:
    posts = [post(n) for n in range(5)]
    matches = {
        posts[0].key: [TopicMatch("t1", ("gaza", "ceasefire")), TopicMatch("t2", ("un",))],
        posts[1].key: [TopicMatch("t2", ("un", "gaza"))],
    }
    alerts = [
        AlertIntent("src", "p0", "a", ("t2", "t1")),
        AlertIntent("src", "p0", "b", ("t1",)),
        *(AlertIntent("src", p.post_id, "a", ("t2",)) for p in posts[1:]),
    ]
    store.save_poll(SourceState("src"), posts, matches, alerts, T0)
    # Far-future horizon as `run --once` uses it.
    everything = store.pending_alerts(datetime.max.replace(tzinfo=UTC))
    assert [i.alert_id for i in everything] == sorted(i.alert_id for i in everything)
    assert [i.terms for i in everything[:3]] == [
        ("un", "gaza", "ceasefire"),
        ("gaza", "ceasefire"),
        ("un", "gaza"),
    ]
    assert everything[0].topic_ids == ("t2", "t1")
    assert everything[3].terms == ()
    assert [i.alert_id for i in store.pending_alerts(T0, limit=2)] == [
        i.alert_id for i in everything[:2]
    ]
    assert store.pending_alerts(T0 - timedelta(seconds=1)) == []


def test_export_filters_and_order(store: Store) -> None:
    old = post(1, published=T0 - timedelta(days=3))
    undated = post(2, published=None)  # falls back to when it was first seen
    new = post(3, published=T0 + timedelta(hours=1))
    store.save_poll(
        SourceState("src"),
        [new, undated, old],
        {new.key: [TopicMatch("t2", ("b",)), TopicMatch("t1", ("a",))], old.key: []},
        [],
        T0,
    )
    rows = list(store.export_posts())
    assert [r.id for r in rows] == ["p1", "p2", "p3"]
    assert rows[2].topics == ("t1", "t2")
    assert (rows[0].source, rows[0].url, rows[0].text) == ("src", old.url, old.text)
    assert [r.id for r in store.export_posts(since=T0)] == ["p2", "p3"]
    assert [r.id for r in store.export_posts(topic_id="t2")] == ["p3"]
    assert [r.id for r in store.export_posts(since=T0 + timedelta(hours=2), topic_id="t1")] == []


def test_crash_mid_transaction_leaves_nothing(store: Store) -> None:
    posts = [post(1), post(2)]
    with crash_on(store, "INSERT INTO OUTBOX"), pytest.raises(RuntimeError):
        save(store, posts)
    assert store.load_states() == {}
    assert store.known_post_ids("src", ["p1", "p2"]) == set()
    assert list(store.export_posts()) == []
    assert store.outbox_counts() == {"pending": 0, "sent": 0, "failed": 0}
    # The next poll finds the posts new again and stores everything.
    assert save(store, posts) == posts
    assert len(store.pending_alerts(T0)) == 2


def test_unreachable_database_masks_password() -> None:
    with pytest.raises(StoreError) as caught:
        Store.open("postgresql+psycopg://watcher:s3cr3t-pw@127.0.0.1:1/postwatch")
    message = str(caught.value)
    assert "s3cr3t-pw" not in message
    assert "watcher:***@127.0.0.1:1/postwatch" in message


def test_unusable_sqlite_path_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot open database"):
        Store.open(f"sqlite:///{blocker}/postwatch.db")


def test_bad_urls_are_store_errors_without_echo() -> None:
    with pytest.raises(StoreError) as caught:
        Store.open("nonsense://user:hunter2@")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(StoreError, match="not valid"):
        Store.open("::hunter2::")
    with pytest.raises(StoreError, match="in-memory"):
        Store.open("sqlite://")


def test_schema_newer_than_code_is_a_store_error(store: Store, db_url: str) -> None:
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    with pytest.raises(StoreError, match="newer than this version"):
        Store.open(db_url)
