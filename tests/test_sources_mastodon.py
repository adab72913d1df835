"""Mastodon-compatible (Truth Social) adapter: golden statuses, profile URLs, since_id polling."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx

from bot.config.addresses import mastodon_account
from bot.config.settings import NetworkSettings, SourceConfig
from bot.errors import ParseError
from bot.model import Post, SourceState
from bot.net.client import HttpClient
from bot.sources.mastodon import (
    MAX_PAGES,
    MastodonAdapter,
    newest_status_id,
    parse_account_id,
    parse_statuses,
)

DATA = Path(__file__).parent / "data" / "sources"
NOW = datetime(2024, 3, 5, 17, 0, tzinfo=UTC)
PROFILE = "https://truthsocial.com/@realDonaldTrump"
LOOKUP = "https://truthsocial.com/api/v1/accounts/lookup"
STATUSES = "https://truthsocial.com/api/v1/accounts/107780257626128497/statuses"


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_status_with_media_becomes_a_post() -> None:
    first = parse_statuses("truth", load("mastodon_statuses.json"))[0]
    assert first == Post(
        source_id="truth",
        post_id="112045557735284617",
        text=(
            "THANK YOU TEXAS! Tremendous crowd tonight & a great result.\n"
            "We will be back soon!\n\n#MAGA\n\nCrowd"  # the picture's description comes last
        ),
        url="https://truthsocial.com/@realDonaldTrump/112045557735284617",
        author="Donald J. Trump (@realDonaldTrump)",
        published_at=datetime(2024, 3, 5, 14, 40, 12, 52000, tzinfo=UTC),
        lang="en",
        image_url="https://static-assets-1.truthsocial.com/media/crowd.jpg",  # the first *image*
    )


def test_reblog_carries_the_original_text_author_and_url() -> None:
    reblog = parse_statuses("truth", load("mastodon_statuses.json"))[1]
    assert reblog.post_id == "112045290001122334"  # the timeline entry's id (since_id pages by it)
    assert reblog.text == (
        "Polls close at 8PM ET in Texas. Find your polling place: https://example.org/vote"
    )
    assert reblog.author == "Team Trump (Text TRUMP to 88022) (@TeamTrump)"
    assert reblog.url == "https://truthsocial.com/@TeamTrump/112044980005566778"
    assert reblog.lang == "en"  # the original's language; the reblog wrapper has none
    assert reblog.published_at == datetime(2024, 3, 5, 13, 32, 20, tzinfo=UTC)  # when reblogged


def test_spoiler_text_comes_first_and_odd_entries_are_skipped() -> None:
    posts = parse_statuses("truth", load("mastodon_statuses.json"))
    assert len(posts) == 3  # a status without id and a bare string are skipped
    warned = posts[2]
    assert warned.text == "Election spoilers\n\nErgebnisse kommen heute Abend."
    assert warned.author == "@realDonaldTrump"  # no display name
    assert warned.lang == "de"


def test_account_lookup() -> None:
    assert parse_account_id(load("mastodon_lookup.json")) == "107780257626128497"
    with pytest.raises(ParseError, match="without an account id"):
        parse_account_id(b'{"error": "Record not found"}')


@pytest.mark.parametrize(
    "body",
    [
        (DATA / "cloudflare.html").read_bytes(),
        b"",
        b"Service Unavailable",
        b'{"error": "This method requires an authenticated user"}',
    ],
)
def test_non_status_answers_raise_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse_statuses("truth", body)


def test_html_instead_of_json_names_the_page() -> None:
    with pytest.raises(ParseError, match=re.escape("got an HTML page titled 'Just a moment...'")):
        parse_statuses("truth", load("cloudflare.html"))


@pytest.mark.parametrize(
    ("url", "origin", "acct"),
    [
        (PROFILE, "https://truthsocial.com", "realDonaldTrump"),
        ("https://mastodon.social/@Gargron/", "https://mastodon.social", "Gargron"),
        ("https://mastodon.social/users/Gargron", "https://mastodon.social", "Gargron"),
        (
            "https://mastodon.social/@user@other.example",
            "https://mastodon.social",
            "user@other.example",
        ),
    ],
)
def test_profile_urls(url: str, origin: str, acct: str) -> None:
    assert mastodon_account(url) == (origin, acct)


@pytest.mark.parametrize(
    "url",
    [
        "https://truthsocial.com/",
        "https://truthsocial.com/@x/112045557735284617",
        "@x",
        "ftp://h/@x",
    ],
)
def test_not_profile_urls(url: str) -> None:
    with pytest.raises(ParseError, match="not a Mastodon profile URL"):
        mastodon_account(url)


def test_newest_status_id_compares_snowflakes_numerically() -> None:
    posts = [Post("s", "99", ""), Post("s", "112045557735284617", ""), Post("s", "1000", "")]
    assert newest_status_id(posts, None) == "112045557735284617"
    assert newest_status_id([], "5") == "5"
    assert newest_status_id([Post("s", "4", "")], "10") == "10"


# --- fetch ---------------------------------------------------------------------------------


@pytest.fixture
def router() -> respx.MockRouter:
    return respx.MockRouter(using=None, assert_all_called=False)


@pytest.fixture
async def http(router: respx.MockRouter) -> AsyncIterator[HttpClient]:
    client = HttpClient(NetworkSettings(), transport=httpx.MockTransport(router.async_handler))
    yield client
    await client.aclose()


def source(url: str = PROFILE) -> SourceConfig:
    return SourceConfig(
        id="truth", kind="mastodon", url=url, every=timedelta(minutes=2), max_age=timedelta(hours=6)
    )


async def test_first_poll_looks_up_the_account_then_reads_statuses(
    router: respx.MockRouter, http: HttpClient
) -> None:
    lookup = router.get(LOOKUP).respond(200, content=load("mastodon_lookup.json"))
    statuses = router.get(STATUSES).respond(200, content=load("mastodon_statuses.json"))
    fetched = await MastodonAdapter().fetch(source(), SourceState("truth"), http, NOW)
    assert lookup.calls.last.request.url.params["acct"] == "realDonaldTrump"
    params = statuses.calls.last.request.url.params
    assert params["exclude_replies"] == "true"
    assert params["limit"] == "40"
    assert "since_id" not in params
    assert statuses.calls.last.request.headers["accept"] == "application/json"
    assert [p.post_id for p in fetched.posts] == [
        "112045557735284617",
        "112045290001122334",
        "112044700000000001",
    ]
    assert fetched.state.cursor["account_id"] == "107780257626128497"
    assert fetched.state.cursor["since_id"] == "112045557735284617"


async def test_later_polls_reuse_the_account_id_and_send_since_id(
    router: respx.MockRouter, http: HttpClient
) -> None:
    lookup = router.get(LOOKUP).respond(200, content=load("mastodon_lookup.json"))
    statuses = router.get(STATUSES)
    statuses.side_effect = [
        httpx.Response(200, content=load("mastodon_statuses.json")),
        httpx.Response(200, content=load("mastodon_statuses_newer.json")),
        httpx.Response(200, json=[]),
    ]
    adapter = MastodonAdapter()
    state = (await adapter.fetch(source(), SourceState("truth"), http, NOW)).state
    second = await adapter.fetch(source(), state, http, NOW)
    assert statuses.calls[1].request.url.params["since_id"] == "112045557735284617"
    assert [p.text for p in second.posts] == ["Big day tomorrow."]
    assert second.state.cursor["since_id"] == "112046001234567890"
    third = await adapter.fetch(source(), second.state, http, NOW)
    assert third.posts == []
    assert third.state.cursor["since_id"] == "112046001234567890"  # nothing new: kept
    assert lookup.call_count == 1


async def test_a_changed_profile_url_looks_up_again(
    router: respx.MockRouter, http: HttpClient
) -> None:
    router.get("https://mastodon.social/api/v1/accounts/lookup").respond(200, json={"id": "42"})
    statuses = router.get("https://mastodon.social/api/v1/accounts/42/statuses").respond(
        200, json=[]
    )
    old = SourceState(
        "truth",
        cursor={
            "account": "https://truthsocial.com/@realDonaldTrump",
            "account_id": "107780257626128497",
            "since_id": "112045557735284617",
        },
    )
    fetched = await MastodonAdapter().fetch(
        source("https://mastodon.social/@Gargron"), old, http, NOW
    )
    assert "since_id" not in statuses.calls.last.request.url.params  # a different timeline
    assert fetched.state.cursor["account_id"] == "42"


async def test_cloudflare_page_instead_of_json_is_a_parse_error(
    router: respx.MockRouter, http: HttpClient
) -> None:
    router.get(LOOKUP).respond(
        200, content=load("cloudflare.html"), headers={"Content-Type": "text/html"}
    )
    with pytest.raises(ParseError, match="Just a moment"):
        await MastodonAdapter().fetch(source(), SourceState("truth"), http, NOW)


KNOWN_ACCOUNT = {"account": PROFILE, "account_id": "107780257626128497"}


def _statuses(ids: range) -> list[dict[str, object]]:
    return [
        {
            "id": str(n),
            "created_at": "2026-03-18T14:02:11Z",
            "content": f"<p>status {n}</p>",
            "url": f"https://truthsocial.com/@realDonaldTrump/{n}",
            "account": {"acct": "realDonaldTrump"},
        }
        for n in ids
    ]


async def test_a_full_page_after_since_id_pages_back_to_close_the_gap(
    router: respx.MockRouter, http: HttpClient
) -> None:
    statuses = router.get(STATUSES)
    # 85 statuses newer than since_id 1000: the API answers the newest 40 first.
    statuses.side_effect = [
        httpx.Response(200, json=_statuses(range(1085, 1045, -1))),
        httpx.Response(200, json=_statuses(range(1045, 1005, -1))),
        httpx.Response(200, json=_statuses(range(1005, 1000, -1))),
    ]
    state = SourceState("truth", cursor={**KNOWN_ACCOUNT, "since_id": "1000"})
    fetched = await MastodonAdapter().fetch(source(), state, http, NOW)
    assert sorted(int(p.post_id) for p in fetched.posts) == list(range(1001, 1086))
    calls = [c.request.url.params for c in statuses.calls]
    assert [c.get("max_id") for c in calls] == [None, "1046", "1006"]
    assert all(c["since_id"] == "1000" for c in calls)
    assert fetched.state.cursor["since_id"] == "1085"


async def test_paging_back_is_bounded(router: respx.MockRouter, http: HttpClient) -> None:
    statuses = router.get(STATUSES)
    statuses.side_effect = lambda request: httpx.Response(200, json=_statuses(range(40)))
    cursor = {**KNOWN_ACCOUNT, "since_id": "0"}
    await MastodonAdapter().fetch(source(), SourceState("truth", cursor=cursor), http, NOW)
    assert statuses.call_count == MAX_PAGES
