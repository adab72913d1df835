"""Bluesky adapter: golden getAuthorFeed pages, reposts, and cursor paging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx

from bot.config.settings import NetworkSettings, SourceConfig
from bot.errors import ParseError
from bot.model import Post, SourceState
from bot.net.client import HttpClient
from bot.sources.bluesky import MAX_PAGES, BlueskyAdapter, parse_author_feed, post_url

DATA = Path(__file__).parent / "data" / "sources"
NOW = datetime(2024, 3, 5, 16, 0, tzinfo=UTC)
FEED = "https://public.api.bsky.app/xrpc/app.bsky.feed.getAuthorFeed"
ACTOR = "senexample.bsky.social"


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_own_post_with_images() -> None:
    page = parse_author_feed("bsky", load("bluesky_feed_page1.json"))
    assert page.posts[0] == Post(
        source_id="bsky",
        post_id="3kmz7rbtq2k2a",
        text=(
            "Hearing on the Clean Water Act amendment starts now.\n\nWatch live: example.gov/live"
            "\n\nCommittee room"  # the picture's alt text
        ),
        url="https://bsky.app/profile/senexample.bsky.social/post/3kmz7rbtq2k2a",
        author="Sen. Example (@senexample.bsky.social)",
        published_at=datetime(2024, 3, 5, 15, 0, 0, 412000, tzinfo=UTC),
        lang="en",
        image_url=(
            "https://cdn.bsky.app/img/feed_fullsize/plain/"
            "did:plc:4xkq2c7a3jv7n5yqz6w2m3lb/bafkreihx@jpeg"
        ),
    )


def test_repost_carries_the_original_author_text_and_url() -> None:
    repost = parse_author_feed("bsky", load("bluesky_feed_page1.json")).posts[1]
    assert repost.post_id == "3kmyq4aw5cs2x"  # the original's record key
    assert repost.author == "River Keepers (@riverkeepers.org)"
    assert repost.url == "https://bsky.app/profile/riverkeepers.org/post/3kmyq4aw5cs2x"
    assert repost.text.startswith("Our water-quality report is out.")
    assert repost.published_at == datetime(2024, 3, 5, 14, 30, tzinfo=UTC)  # when reposted
    assert repost.image_url is not None
    assert repost.image_url.endswith("/bafkreichart@jpeg")  # recordWithMedia images


def test_page_details() -> None:
    page = parse_author_feed("bsky", load("bluesky_feed_page1.json"))
    third = page.posts[2]
    assert third.lang == "es"  # the first of record.langs
    assert third.text == (  # the link card is context
        "Gracias a todos los que vinieron hoy. Thank you all for coming today."
        "\n\n> Town hall\n> Recap\n> https://example.gov/town-hall"
    )
    assert third.image_url is None  # a link card is not an attached image
    assert len(page.posts) == 3  # the feed-generator record is not a post
    assert page.cursor == "2024-03-05T12:59:00.000Z"
    assert page.newest_at == datetime(2024, 3, 5, 15, 0, 1, 231000, tzinfo=UTC)
    assert page.oldest_at == datetime(2024, 3, 5, 12, 59, tzinfo=UTC)


def test_unverified_handle_links_by_did_and_bad_created_at_falls_back() -> None:
    post = parse_author_feed("bsky", load("bluesky_feed_page2.json")).posts[1]
    assert post.url == (
        "https://bsky.app/profile/did:plc:4xkq2c7a3jv7n5yqz6w2m3lb/post/3kmyl5l7zls2k"
    )
    assert post.author == "did:plc:4xkq2c7a3jv7n5yqz6w2m3lb"
    assert post.published_at == datetime(2024, 3, 5, 11, 0, tzinfo=UTC)  # indexedAt


def test_post_url() -> None:
    assert post_url("a.bsky.social", "at://did:plc:abc/app.bsky.feed.post/3k2") == (
        "https://bsky.app/profile/a.bsky.social/post/3k2"
    )
    assert post_url("a.bsky.social", "at://did:plc:abc/app.bsky.feed.like/3k2") is None


@pytest.mark.parametrize(
    "body", [(DATA / "cloudflare.html").read_bytes(), b"[]", b'{"error": "InvalidRequest"}', b""]
)
def test_non_feed_answers_raise_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse_author_feed("bsky", body)


# --- fetch ---------------------------------------------------------------------------------


@pytest.fixture
def router() -> respx.MockRouter:
    return respx.MockRouter(using=None, assert_all_called=False)


@pytest.fixture
async def http(router: respx.MockRouter) -> AsyncIterator[HttpClient]:
    client = HttpClient(NetworkSettings(), transport=httpx.MockTransport(router.async_handler))
    yield client
    await client.aclose()


def source(url: str = "https://public.api.bsky.app", actor: str | None = ACTOR) -> SourceConfig:
    return SourceConfig(
        id="bsky",
        kind="bluesky",
        url=url,
        actor=actor,
        every=timedelta(minutes=5),
        max_age=timedelta(hours=24),
    )


def pages_by_cursor(request: httpx.Request) -> httpx.Response:
    cursor = request.url.params.get("cursor")
    if cursor is None:
        return httpx.Response(200, content=load("bluesky_feed_page1.json"))
    if cursor == "2024-03-05T12:59:00.000Z":
        return httpx.Response(200, content=load("bluesky_feed_page2.json"))
    return httpx.Response(200, json={"feed": []})  # the end of the feed: no cursor


async def test_first_poll_reads_one_page_and_remembers_the_newest(
    router: respx.MockRouter, http: HttpClient
) -> None:
    route = router.get(FEED).mock(side_effect=pages_by_cursor)
    fetched = await BlueskyAdapter().fetch(source(), SourceState("bsky"), http, NOW)
    assert route.call_count == 1
    params = route.calls.last.request.url.params
    assert params["actor"] == ACTOR
    assert params["limit"] == "50"
    assert params["filter"] == "posts_and_author_threads"
    assert "cursor" not in params
    assert len(fetched.posts) == 3
    assert fetched.state.cursor["newest_at"] == "2024-03-05T15:00:01.231000+00:00"
    assert fetched.state.cursor["newest_uri"] == (
        "at://did:plc:4xkq2c7a3jv7n5yqz6w2m3lb/app.bsky.feed.post/3kmz7rbtq2k2a"
    )


async def test_later_poll_follows_the_cursor_until_a_seen_item(
    router: respx.MockRouter, http: HttpClient
) -> None:
    route = router.get(FEED).mock(side_effect=pages_by_cursor)
    # Last seen: the 12:00 post on page 2, so page 1 alone does not reach it.
    state = SourceState("bsky", cursor={"newest_at": "2024-03-05T12:00:00.700000+00:00"})
    fetched = await BlueskyAdapter().fetch(source(), state, http, NOW)
    assert [c.request.url.params.get("cursor") for c in route.calls] == [
        None,
        "2024-03-05T12:59:00.000Z",
    ]
    assert [p.post_id for p in fetched.posts] == [
        "3kmz7rbtq2k2a",
        "3kmyq4aw5cs2x",
        "3kmyxjr3vbk2c",
        "3kmyt2f4kdc2s",
        "3kmyl5l7zls2k",
    ]
    assert fetched.state.cursor["newest_at"] == "2024-03-05T15:00:01.231000+00:00"


async def test_a_seen_item_on_the_first_page_stops_paging(
    router: respx.MockRouter, http: HttpClient
) -> None:
    route = router.get(FEED).mock(side_effect=pages_by_cursor)
    uri = "at://did:plc:4xkq2c7a3jv7n5yqz6w2m3lb/app.bsky.feed.post/3kmyxjr3vbk2c"
    state = SourceState("bsky", cursor={"newest_uri": uri})
    await BlueskyAdapter().fetch(source(), state, http, NOW)
    assert route.call_count == 1


async def test_paging_is_capped(router: respx.MockRouter, http: HttpClient) -> None:
    def endless(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=load("bluesky_feed_page1.json"))

    route = router.get("https://bsky.example.net/xrpc/app.bsky.feed.getAuthorFeed").mock(
        side_effect=endless
    )
    state = SourceState("bsky", cursor={"newest_at": "2020-01-01T00:00:00+00:00"})
    fetched = await BlueskyAdapter().fetch(source("https://bsky.example.net/"), state, http, NOW)
    assert route.call_count == MAX_PAGES
    assert len(fetched.posts) == 3  # the repeated items are merged


async def test_html_instead_of_json_is_a_parse_error(
    router: respx.MockRouter, http: HttpClient
) -> None:
    router.get(FEED).respond(200, content=load("cloudflare.html"))
    with pytest.raises(ParseError, match="got an HTML page"):
        await BlueskyAdapter().fetch(source(), SourceState("bsky"), http, NOW)


async def test_a_source_without_actor_is_a_parse_error(http: HttpClient) -> None:
    with pytest.raises(ParseError, match="needs an actor"):
        await BlueskyAdapter().fetch(source(actor=None), SourceState("bsky"), http, NOW)
