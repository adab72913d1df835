"""Telegram channel previews (t.me/s/CHANNEL): golden page, landing pages, redirects."""

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
from bot.sources.telegram import MAX_PAGES, TelegramAdapter, parse_channel_page, preview_url

DATA = Path(__file__).parent / "data" / "sources"
NOW = datetime(2024, 3, 5, 13, 0, tzinfo=UTC)


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_channel_page_messages() -> None:
    posts = parse_channel_page("tg", load("telegram_channel.html"))
    # The service message is skipped; the rest keep page order.
    assert [p.post_id for p in posts] == ["4118", "4119", "4120", "4121", "4122"]
    assert posts[0] == Post(
        source_id="tg",
        post_id="4118",
        text=(
            "\U0001f6a8 BREAKING: Parliament session suspended after a power cut in the capital."
            '\n\nOfficials say power should return "within hours" & the vote is postponed.'
            "\nexample.org/report"
        ),
        url="https://t.me/examplenews/4118",
        author="Example News",
        published_at=datetime(2024, 3, 5, 9, 15, 2, tzinfo=UTC),
    )


def test_photo_and_author_signature() -> None:
    photo = parse_channel_page("tg", load("telegram_channel.html"))[1]
    assert photo.image_url == "https://cdn4.cdn-telegram.org/file/Qm9yZGVyX2Nyb3NzaW5nLmpwZw.jpg"
    assert photo.author == "Anna Kowalska"
    assert photo.text == "Aid convoy at the border crossing this morning.\nPhoto: our correspondent"


def test_reply_uses_its_own_text_not_the_quoted_one() -> None:
    reply = parse_channel_page("tg", load("telegram_channel.html"))[2]
    assert reply.text == "Update: power is back and the session resumes at 14:00."
    assert reply.image_url is None  # the quoted message's thumbnail is not this message's photo


def test_a_poll_is_its_question() -> None:
    poll = parse_channel_page("tg", load("telegram_channel.html"))[3]
    assert poll.text == "Did you lose power today?"  # not "Anonymous poll"


def test_forwarded_message_text() -> None:
    forwarded = parse_channel_page("tg", load("telegram_channel.html"))[4]
    assert forwarded.text == "Metro lines 2 and 5 are running again.\nExpect delays until 16:00."
    assert forwarded.author == "City Transit"  # whom it was forwarded from
    assert forwarded.published_at == datetime(2024, 3, 5, 12, 31, 9, tzinfo=UTC)


def test_landing_page_without_messages_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="page without messages"):
        parse_channel_page("tg", load("telegram_landing.html"))


@pytest.mark.parametrize("body", [b"", b"   ", (DATA / "cloudflare.html").read_bytes()])
def test_other_pages_are_parse_errors(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse_channel_page("tg", body)


def test_a_channel_with_no_messages_yet_is_empty() -> None:
    page = (
        b"<html><body><div class='tgme_channel_info'><div class='tgme_channel_info_header_title'>"
        b"<span>New channel</span></div></div><section class='tgme_channel_history'></section>"
        b"</body></html>"
    )
    assert parse_channel_page("tg", page) == []


def source(url: str = "", channel: str | None = "examplenews") -> SourceConfig:
    return SourceConfig(
        id="tg",
        kind="telegram",
        url=url,
        channel=channel,
        every=timedelta(minutes=5),
        max_age=timedelta(hours=24),
    )


@pytest.mark.parametrize(
    ("url", "channel", "expected"),
    [
        ("", "examplenews", "https://t.me/s/examplenews"),
        ("", "@examplenews", "https://t.me/s/examplenews"),
        ("https://t.me/s/examplenews", None, "https://t.me/s/examplenews"),
        ("https://t.me/examplenews", None, "https://t.me/s/examplenews"),
    ],
)
def test_preview_url(url: str, channel: str | None, expected: str) -> None:
    assert preview_url(source(url, channel)) == expected


def test_preview_url_needs_a_channel() -> None:
    with pytest.raises(ParseError, match="needs a url or a channel"):
        preview_url(source("", None))


# --- fetch ---------------------------------------------------------------------------------


@pytest.fixture
def router() -> respx.MockRouter:
    return respx.MockRouter(using=None, assert_all_called=False)


@pytest.fixture
async def http(router: respx.MockRouter) -> AsyncIterator[HttpClient]:
    client = HttpClient(NetworkSettings(), transport=httpx.MockTransport(router.async_handler))
    yield client
    await client.aclose()


async def test_fetch_reads_the_preview_page(router: respx.MockRouter, http: HttpClient) -> None:
    route = router.get("https://t.me/s/examplenews").respond(
        200, content=load("telegram_channel.html"), headers={"Content-Type": "text/html"}
    )
    state = SourceState("tg")
    fetched = await TelegramAdapter().fetch(source(), state, http, NOW)
    assert route.calls.last.request.headers["accept"] == "text/html"
    assert len(fetched.posts) == 5
    assert route.call_count == 1  # the first poll is a baseline: one page
    assert fetched.state.cursor == {"newest_id": "4122"}


async def test_redirect_to_the_landing_page_is_a_parse_error(
    router: respx.MockRouter, http: HttpClient
) -> None:
    router.get("https://t.me/s/nosuchchannel").respond(
        302, headers={"Location": "https://t.me/nosuchchannel"}
    )
    router.get("https://t.me/nosuchchannel").respond(200, content=load("telegram_landing.html"))
    with pytest.raises(ParseError, match="no public preview"):
        await TelegramAdapter().fetch(source(channel="nosuchchannel"), SourceState("tg"), http, NOW)


def _page(numbers: range) -> str:
    blocks = "".join(
        f'<div class="tgme_widget_message js-widget_message" data-post="examplenews/{n}">'
        f'<div class="tgme_widget_message_text js-message_text">Message {n}</div>'
        f'<time datetime="2024-03-05T09:15:02+00:00"></time></div>'
        for n in numbers
    )
    return f"<html><body><section>{blocks}</section></body></html>"


async def test_a_page_of_only_unseen_messages_reads_older_pages(
    router: respx.MockRouter, http: HttpClient
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        before = int(request.url.params.get("before", 161))
        return httpx.Response(
            200, text=_page(range(before - 20, before)), headers={"Content-Type": "text/html"}
        )

    route = router.get("https://t.me/s/examplenews").mock(side_effect=answer)
    state = SourceState("tg", cursor={"newest_id": "105"})
    fetched = await TelegramAdapter().fetch(source(), state, http, NOW)
    assert [c.request.url.params.get("before") for c in route.calls] == [None, "141", "121"]
    assert {int(p.post_id) for p in fetched.posts} >= set(range(106, 161))
    assert fetched.state.cursor == {"newest_id": "160"}

    before = route.call_count
    state = SourceState("tg", cursor={"newest_id": "0"})  # a long outage: bounded
    await TelegramAdapter().fetch(source(), state, http, NOW)
    assert route.call_count - before == MAX_PAGES
