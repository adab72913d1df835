"""Containment (issue 9): whatever goes wrong inside one source stays with that source.

A real store on both backends; fake adapters registered only in these tests, behind the
registry seam (`bot.sources.registry.ADAPTERS`); an injected clock, never a sleep.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import httpx
import pytest
from db_helpers import impatient_store, write_locked

from bot.classify.watchlist import Watchlist
from bot.config.settings import ChannelConfig, NetworkSettings, SourceConfig
from bot.errors import ParseError
from bot.log import RepeatLimiter
from bot.model import Fetched, Post, SourceState, TopicConfig
from bot.net.client import HttpClient
from bot.poll import PollReport, poll_source
from bot.sources import registry
from bot.store.database import Store

T0 = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)
CHANNELS = (ChannelConfig("everything", "@all", None),)
TOPICS = (TopicConfig("ceasefire", "Ceasefire", "ceasefire"),)


def source(source_id: str = "wire", every: timedelta = timedelta(minutes=5)) -> SourceConfig:
    return SourceConfig(
        id=source_id,
        kind="rss",
        url=f"https://{source_id}.example/rss",
        every=every,
        max_age=timedelta(days=36500),
    )


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class FakeAdapter:
    """Answers each fetch with the next outcome: posts (a new ETag each time) or an exception
    raised from `raise_it`, one line, as a bug inside a parser would be."""

    def __init__(self, *outcomes: list[Post] | BaseException) -> None:
        self.outcomes = list(outcomes)
        self.states: list[SourceState] = []  # the state each fetch was given

    async def fetch(
        self, source: SourceConfig, state: SourceState, http: HttpClient, now: datetime
    ) -> Fetched:
        self.states.append(state)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, BaseException):
            raise_it(outcome)
        assert isinstance(outcome, list)
        return Fetched(outcome, replace(state, etag=f'"v{len(self.states)}"'))


def raise_it(exc: BaseException) -> None:
    raise exc


@pytest.fixture
def adapters(monkeypatch: pytest.MonkeyPatch) -> dict[str, FakeAdapter]:
    """Fake adapters by source id, standing in for the "rss" kind in this test only."""
    fakes: dict[str, FakeAdapter] = {}

    class BySource:
        async def fetch(
            self, source: SourceConfig, state: SourceState, http: HttpClient, now: datetime
        ) -> Fetched:
            return await fakes[source.id].fetch(source, state, http, now)

    monkeypatch.setattr(
        registry, "ADAPTERS", MappingProxyType({**registry.ADAPTERS, "rss": BySource()})
    )
    return fakes


def compiled() -> Watchlist:
    watchlist, problems = Watchlist.compile(TOPICS)
    assert not problems
    return watchlist


async def poll(
    store: Store,
    src: SourceConfig | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    bugs: RepeatLimiter | None = None,
    watchlist: Any = None,
) -> PollReport:
    def no_network(request: httpx.Request) -> httpx.Response:
        raise AssertionError("the fake adapters never use the network")

    async with HttpClient(NetworkSettings(), transport=httpx.MockTransport(no_network)) as http:
        return await poll_source(
            src or source(),
            store=store,
            http=http,
            watchlist=watchlist or compiled(),
            channels=CHANNELS,
            clock=clock or Clock(),
            bugs=bugs,
        )


def posts(source_id: str, *texts: str) -> list[Post]:
    return [Post(source_id, f"{source_id}-{i}", text) for i, text in enumerate(texts)]


def stored(store: Store) -> dict[str, str]:
    return {row.id: row.text for row in store.export_posts()}


# --- a bug at the source's boundary ----------------------------------------------------------


async def test_a_bug_in_one_source_is_recorded_on_it_and_the_others_go_on(
    store: Store, adapters: dict[str, FakeAdapter]
) -> None:
    adapters["wire"] = FakeAdapter(posts("wire", "first"), KeyError("guid"))
    adapters["news"] = FakeAdapter(posts("news", "ceasefire agreed", "talks go on"))
    await poll(store, source("wire"))  # stores one post, ETag "v1"

    wire, news = await asyncio.gather(poll(store, source("wire")), poll(store, source("news")))

    assert wire.error == "internal error KeyError: 'guid'"
    assert wire.error_kind == "bug: KeyError"
    assert news.error is None and news.stored == 2
    state = store.load_states()["wire"]
    assert (state.failures, state.last_error) == (1, wire.error)
    # Not advanced: the next poll asks with the validators of the last good one.
    assert state.etag == '"v1"' and state.baseline_done
    assert sorted(stored(store)) == ["news-0", "news-1", "wire-0"]


async def test_a_bug_backs_off_like_a_fetch_error_and_recovers(
    store: Store, adapters: dict[str, FakeAdapter]
) -> None:
    adapters["wire"] = FakeAdapter(ValueError("x"), ValueError("x"), posts("wire", "back"))
    clock = Clock()
    await poll(store, clock=clock)
    await poll(store, clock=clock)
    state = store.load_states()["wire"]
    assert state.failures == 2 and state.next_poll_at == T0 + timedelta(minutes=10)
    assert (await poll(store, clock=clock)).skipped  # backing off: not polled

    clock.now = T0 + timedelta(minutes=10)
    report = await poll(store, clock=clock)
    assert (report.error, report.stored) == (None, 1)
    assert store.load_states()["wire"].failures == 0


async def test_a_repeating_bug_is_logged_with_its_traceback_once_then_at_most_hourly(
    store: Store, adapters: dict[str, FakeAdapter], caplog: pytest.LogCaptureFixture
) -> None:
    adapters["wire"] = FakeAdapter(ZeroDivisionError("division by zero"))
    src = source(every=timedelta(minutes=1))  # short backoffs: many polls within two hours
    clock, bugs = Clock(), RepeatLimiter()
    seen: list[tuple[datetime, str]] = []  # (poll time, "traceback" | "line")
    while clock.now < T0 + timedelta(hours=2, minutes=30):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="bot.poll"):
            report = await poll(store, src, clock=clock, bugs=bugs)
        assert not report.skipped and report.error_kind == "bug: ZeroDivisionError"
        [record] = [r for r in caplog.records if r.name == "bot.poll"]
        assert "source wire failed" in record.getMessage()
        if has_traceback(record):
            assert record.levelno == logging.ERROR
            seen.append((clock.now, "traceback"))
        else:
            assert record.levelno == logging.WARNING
            assert "traceback is logged at most hourly" in record.getMessage()
            seen.append((clock.now, "line"))
        due = store.load_states()["wire"].next_poll_at
        clock.now = due if due is not None else clock.now + src.every

    expected, last = [], None
    for when, _ in seen:
        full = last is None or when - last >= timedelta(hours=1)
        expected.append("traceback" if full else "line")
        last = when if full else last
    assert [kind for _, kind in seen] == expected
    assert expected.count("traceback") >= 2 and expected.count("line") >= 4


async def test_two_different_bugs_each_get_their_traceback(
    store: Store, adapters: dict[str, FakeAdapter], caplog: pytest.LogCaptureFixture
) -> None:
    adapters["wire"] = FakeAdapter(KeyError("a"), TypeError("b"))
    bugs, clock = RepeatLimiter(), Clock()
    with caplog.at_level(logging.ERROR, logger="bot.poll"):
        await poll(store, clock=clock, bugs=bugs)
        await poll(store, clock=clock, bugs=bugs)
    full = [r.getMessage() for r in caplog.records if has_traceback(r)]
    assert [message.split(": ")[1] for message in full] == [
        "internal error KeyError",
        "internal error TypeError",
    ]


def has_traceback(record: logging.LogRecord) -> bool:
    # bot.log's filter renders exc_info into exc_text when its handler saw the record first.
    return bool(record.exc_info or record.exc_text)


def test_repeat_limiter_counts_from_the_injected_time() -> None:
    limiter = RepeatLimiter(timedelta(hours=1), max_keys=2)
    assert limiter.due("a", T0)
    assert not limiter.due("a", T0 + timedelta(minutes=59))
    assert limiter.due("a", T0 + timedelta(hours=1))
    assert limiter.due("b", T0) and limiter.due("c", T0)  # "a" is forgotten: too many keys
    assert limiter.due("a", T0 + timedelta(hours=1, minutes=1))


@pytest.mark.parametrize("stop", [asyncio.CancelledError(), KeyboardInterrupt(), SystemExit(3)])
async def test_cancellation_and_interpreter_exits_are_never_contained(
    store: Store, adapters: dict[str, FakeAdapter], stop: BaseException
) -> None:
    adapters["wire"] = FakeAdapter(stop)
    with pytest.raises(type(stop)):
        await poll(store)
    assert "wire" not in store.load_states()  # nothing recorded: a stop is no failure


async def test_a_failure_whose_message_the_database_would_refuse_is_still_recorded(
    store: Store, adapters: dict[str, FakeAdapter]
) -> None:
    adapters["wire"] = FakeAdapter(ParseError("expected a feed, got b'\x00\x01\udcff'"))
    report = await poll(store)
    assert report.error_kind == "ParseError"
    assert store.load_states()["wire"].last_error == "expected a feed, got b'\x01\ufffd'"


# --- the database in trouble ---------------------------------------------------------------


async def test_a_locked_database_loses_nothing_and_is_not_held_against_the_source(
    db_url: str, adapters: dict[str, FakeAdapter]
) -> None:
    store = impatient_store(db_url)
    try:
        adapters["wire"] = FakeAdapter(posts("wire", "ceasefire agreed", "talks"))
        with write_locked(db_url):
            report = await poll(store)
        assert report.error_kind == "StoreError" and "database error" in (report.error or "")
        assert stored(store) == {}
        assert "wire" not in store.load_states()  # not advanced, no failure counted

        again = await poll(store)
        assert (again.error, again.stored) == (None, 2)
        assert adapters["wire"].states[1] == adapters["wire"].states[0]  # fetched afresh
    finally:
        store.close()


# --- one bad post ----------------------------------------------------------------------------


async def test_posts_the_database_would_refuse_are_stored_repaired(
    store: Store, adapters: dict[str, FakeAdapter], caplog: pytest.LogCaptureFixture
) -> None:
    east = timezone(timedelta(hours=5))
    adapters["wire"] = FakeAdapter(
        [
            Post("wire", "nul", "cease\x00fire agreed"),
            Post("wire", "half", "ceasefire \ud83d agreed", author="A \udcff"),
            Post("wire", "pair", "ceasefire \ud83d\ude00"),
            Post("wire", "naive", "ceasefire naive", published_at=datetime(2026, 3, 18, 14)),
            Post("wire", "year1", "ceasefire", published_at=datetime(1, 1, 1, tzinfo=east)),
            Post("wire", "id\x00", "fine"),
            Post("wire", "ipv6", "ceasefire", url="http://[::1"),
            Post("wire", "ipv6-text", "ceasefire, see http://[::1 and http://[zz]/a"),
        ]
    )
    with caplog.at_level(logging.WARNING, logger="bot.poll"):
        report = await poll(store)

    assert (report.error, report.stored, report.damaged) == (None, 8, 0)
    rows = {row.id: row for row in store.export_posts()}
    assert rows["nul"].text == "ceasefire agreed"
    assert (rows["half"].text, rows["half"].author) == ("ceasefire \ufffd agreed", "A \ufffd")
    assert rows["pair"].text == "ceasefire 😀"
    assert rows["naive"].published_at == datetime(2026, 3, 18, 14, tzinfo=UTC)
    assert rows["year1"].published_at is None
    assert "id" in rows and rows["ipv6"].url == "http://[::1"
    assert all(row.story is not None for row in rows.values())
    assert all(row.topics == ("ceasefire",) for key, row in rows.items() if key != "id")
    warned = " ".join(r.getMessage() for r in caplog.records)
    for post_id in ("'nul'", "'half'", "'naive'", "'year1'"):
        assert post_id in warned


async def test_a_post_whose_fingerprint_fails_is_stored_as_a_story_of_its_own(
    store: Store,
    adapters: dict[str, FakeAdapter],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import bot.poll

    real = bot.poll.fingerprint

    def planted_bug(post: Post) -> Any:
        if post.post_id == "bad":
            raise RuntimeError("planted")
        return real(post)

    monkeypatch.setattr(bot.poll, "fingerprint", planted_bug)
    text = "Energy ceasefire agreed after the call, the White House said on Tuesday evening"
    adapters["wire"] = FakeAdapter(
        [Post("wire", "good", text), Post("wire", "bad", text), Post("wire", "copy", text)]
    )
    with caplog.at_level(logging.WARNING, logger="bot.poll"):
        report = await poll(store)

    assert (report.error, report.stored, report.damaged) == (None, 3, 1)
    [failed] = [r for r in caplog.records if "'bad'" in r.getMessage()]
    assert "fingerprinting failed (stored as a story of its own)" in failed.getMessage()
    members = {
        frozenset(m.post.post_id for m in story.members)
        for story in store.stories(T0 - timedelta(days=1))
    }
    assert members == {frozenset({"good", "copy"}), frozenset({"bad"})}


def test_the_store_computes_missing_fingerprints_with_the_same_fallback(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.store.story_index

    def broken(post: Post) -> Any:
        raise RuntimeError("planted")

    monkeypatch.setattr(bot.store.story_index, "fingerprint", broken)
    batch = [Post("wire", "a", "same text here"), Post("wire", "b", "same text here")]
    saved = store.save_poll(SourceState("wire"), batch, {}, [], T0)
    assert len(saved.posts) == 2
    assert len(store.stories(T0 - timedelta(days=1))) == 2  # no keys: each its own story


@dataclass
class FlakyWatchlist:
    """The real watchlist, with a bug planted for one post."""

    real: Watchlist

    def match(self, post: Post, kind: str) -> Any:
        if post.post_id == "wire-1":
            raise RecursionError("planted")
        return self.real.match(post, kind)


async def test_a_post_matching_fails_on_is_stored_without_topics_and_the_rest_alert(
    store: Store, adapters: dict[str, FakeAdapter], caplog: pytest.LogCaptureFixture
) -> None:
    batch = [Post("wire", n, f"ceasefire {n}") for n in ("one", "wire-1", "three")]
    adapters["wire"] = FakeAdapter([Post("wire", "old", "old news")], batch)
    await poll(store)  # the baseline
    with caplog.at_level(logging.WARNING, logger="bot.poll"):
        report = await poll(store, watchlist=FlakyWatchlist(compiled()))

    assert (report.stored, report.alerts, report.damaged) == (3, 2, 1)
    [warned] = [r for r in caplog.records if "'wire-1'" in r.getMessage()]
    assert "matching failed (stored without topics)" in warned.getMessage()
    topics = {row.id: row.topics for row in store.export_posts()}
    assert topics == {"old": (), "one": ("ceasefire",), "wire-1": (), "three": ("ceasefire",)}
