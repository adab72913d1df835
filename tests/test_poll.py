"""poll_source against a real store and a scripted HTTP transport; routing and backoff rules."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.classify.watchlist import Watchlist
from bot.config.settings import ChannelConfig, NetworkSettings, SourceConfig
from bot.errors import HttpStatusError, ParseError
from bot.model import Post, SourceState, TopicConfig, TopicMatch
from bot.net.client import HttpClient
from bot.poll import MAX_BACKOFF, poll_source, record_failure
from bot.route import route_alerts
from bot.store.database import Store

NOW = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)
SOURCE = SourceConfig(
    id="wire",
    kind="rss",
    url="https://feeds.example/rss",
    every=timedelta(minutes=5),
    max_age=timedelta(hours=24),
)
CHANNELS = (
    ChannelConfig("ceasefire", "@c", ("ukraine-ceasefire",)),
    ChannelConfig("everything", "@all", None),
    ChannelConfig("markets", "@m", ("markets",)),
)
TOPICS = (
    TopicConfig("ukraine-ceasefire", "Ukraine ceasefire", "ceasefire AND Ukraine"),
    TopicConfig("markets", "Markets", "stocks"),
)


def item(guid: str, text: str, published: str = "Wed, 18 Mar 2026 14:00:00 GMT") -> str:
    return (
        f"<item><guid>{guid}</guid><description>{text}</description>"
        f"<pubDate>{published}</pubDate></item>"
    )


def feed(*items: str) -> bytes:
    channel = f"<channel><title>W</title>{''.join(items)}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


class Script:
    """Answers each request with the next scripted response."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        return self.answers.pop(0)


def rss_response(body: bytes) -> httpx.Response:
    return httpx.Response(
        200, content=body, headers={"Content-Type": "application/rss+xml", "ETag": '"v1"'}
    )


async def poll(
    store: Store,
    script: Script,
    source: SourceConfig = SOURCE,
    clock: Callable[[], datetime] = lambda: NOW,
):
    watchlist, problems = Watchlist.compile(TOPICS)
    assert not problems
    async with HttpClient(NetworkSettings(), transport=httpx.MockTransport(script)) as http:
        return await poll_source(
            source, store=store, http=http, watchlist=watchlist, channels=CHANNELS, clock=clock
        )


async def test_first_poll_is_a_silent_baseline_then_new_posts_alert(store: Store) -> None:
    first = await poll(store, Script(rss_response(feed(item("1", "Ceasefire talks in Ukraine")))))
    assert (first.stored, first.alerts) == (1, 0)
    assert store.pending_alerts(NOW) == []

    second = await poll(
        store,
        Script(
            rss_response(
                feed(
                    item("2", "Ukraine ceasefire agreed"),
                    item("3", "Weather is fine"),
                    item("1", "Ceasefire talks in Ukraine"),
                )
            )
        ),
    )
    assert (second.stored, second.alerts) == (2, 2)
    pending = store.pending_alerts(NOW)
    assert sorted(a.channel_id for a in pending) == ["ceasefire", "everything"]
    assert {a.post.post_id for a in pending} == {"2"}

    again = await poll(store, Script(rss_response(feed(item("2", "Ukraine ceasefire agreed")))))
    assert (again.stored, again.alerts) == (0, 0)
    assert len(store.pending_alerts(NOW)) == 2


async def test_alert_backlog_alerts_the_first_poll_and_old_posts_never_alert(store: Store) -> None:
    source = SourceConfig(
        id="wire",
        kind="rss",
        url=SOURCE.url,
        every=SOURCE.every,
        max_age=timedelta(hours=2),
        alert_backlog=True,
    )
    report = await poll(
        store,
        Script(
            rss_response(
                feed(
                    item("fresh", "Ukraine ceasefire agreed", "Wed, 18 Mar 2026 14:30:00 GMT"),
                    item(
                        "stale",
                        "Ukraine ceasefire agreed long ago",
                        "Tue, 17 Mar 2026 09:00:00 GMT",
                    ),
                )
            )
        ),
        source=source,
    )
    assert report.stored == 2
    assert {a.post.post_id for a in store.pending_alerts(NOW)} == {"fresh"}


async def test_a_failing_source_records_its_error_and_backs_off(store: Store) -> None:
    await poll(store, Script(rss_response(feed(item("1", "x")))))
    page = httpx.Response(
        200,
        content=b"<html><title>Just a moment...</title></html>",
        headers={"Content-Type": "text/html"},
    )
    report = await poll(store, Script(page))
    assert report.error and "expected a feed" in report.error
    state = store.load_states()["wire"]
    assert state.failures == 1 and state.last_error == report.error
    assert state.baseline_done  # a failure does not reset the baseline

    limited = httpx.Response(429, headers={"Retry-After": "3600"})
    await poll(store, Script(limited))
    state = store.load_states()["wire"]
    assert state.failures == 2 and state.next_poll_at == NOW + timedelta(hours=1)
    skipped = await poll(store, Script())  # inside Retry-After: no request at all
    assert skipped.skipped


async def test_ids_longer_than_an_index_can_hold_are_hashed(store: Store) -> None:
    long_id = "https://feeds.example/item?" + "x" * 3000
    await poll(store, Script(rss_response(feed(item(long_id, "a"), item(long_id, "a again")))))
    await poll(store, Script(rss_response(feed(item(long_id, "a")))))
    ids = [row.id for row in store.export_posts()]
    assert len(ids) == 1 and ids[0].startswith("sha256:")


def test_backoff_grows_from_the_interval_and_retry_after_is_clamped() -> None:
    state = SourceState("s")
    error = ParseError("junk")
    once = record_failure(state, error, timedelta(minutes=5), NOW)
    assert once.next_poll_at is None  # one blip waits only the normal interval
    twice = record_failure(once, error, timedelta(minutes=5), NOW)
    assert twice.next_poll_at == NOW + timedelta(minutes=10)
    many = twice
    for _ in range(20):
        many = record_failure(many, error, timedelta(minutes=5), NOW)
    assert many.next_poll_at == NOW + MAX_BACKOFF
    hostile = record_failure(
        state, HttpStatusError(429, "u", retry_after=10**9), timedelta(minutes=5), NOW
    )
    assert hostile.next_poll_at == NOW + MAX_BACKOFF


@pytest.mark.parametrize("baseline", [True, False])
def test_routing_sends_each_post_to_the_channels_of_its_topics(baseline: bool) -> None:
    post = Post("s", "1", "text", published_at=NOW - timedelta(minutes=1))
    undated = Post("s", "2", "text")
    matches = {
        post.key: [TopicMatch("markets", ("stocks",))],
        undated.key: [TopicMatch("ukraine-ceasefire", ("ceasefire",))],
    }
    intents = route_alerts(
        [post, undated], matches, CHANNELS, now=NOW, max_age=timedelta(hours=1), baseline=baseline
    )
    if baseline:
        assert intents == []
    else:
        assert {(i.post_id, i.channel_id) for i in intents} == {
            ("1", "everything"),
            ("1", "markets"),
            ("2", "ceasefire"),
            ("2", "everything"),
        }


async def test_backoff_is_said_once_with_its_end_and_recovery_once(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.poll")
    down = httpx.Response(503, text="down")
    now = [NOW]
    await poll(store, Script(down), clock=lambda: now[0])  # one blip: no backoff yet
    now[0] += SOURCE.every
    await poll(store, Script(down), clock=lambda: now[0])  # two in a row: backing off
    second = [r.getMessage() for r in caplog.records if "failed (2 in a row)" in r.getMessage()]
    until = store.load_states()["wire"].next_poll_at
    assert until is not None
    assert second == [
        f"source wire failed (2 in a row): HTTP 503 from feeds.example/rss; "
        f"backing off until {until:%H:%M} UTC"
    ]
    caplog.clear()
    assert (await poll(store, Script(), clock=lambda: now[0])).skipped  # no request made
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]  # nothing said again at INFO
    now[0] = until
    ok = httpx.Response(304, headers={"ETag": '"v1"'})
    await poll(store, Script(ok), clock=lambda: now[0])
    await poll(store, Script(ok), clock=lambda: now[0] + SOURCE.every)
    recovered = [r.getMessage() for r in caplog.records if "recovered" in r.getMessage()]
    assert recovered == ["source wire recovered after 2 failed polls"]
    assert any("not modified (HTTP 304)" in r.getMessage() for r in caplog.records)
