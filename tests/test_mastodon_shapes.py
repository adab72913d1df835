"""Mastodon-compatible servers as they really answer: golden statuses for Mastodon 4.4+ (quotes,
polls, media, cards), Truth Social, Pleroma/Akkoma, GoToSocial and Misskey's Mastodon API.

The fixtures in tests/data/social/ were written from the Mastodon API documentation (entities
Status, Quote, ShallowQuote, Poll, PreviewCard, MediaAttachment), Pleroma's "Differences in
Mastodon API responses" and the fields those servers' clients read.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx

import bot.sources.mastodon as mastodon
from bot.config.settings import NetworkSettings, SourceConfig
from bot.model import Post, SourceState
from bot.net.client import HttpClient
from bot.sources.mastodon import MastodonAdapter, parse_statuses

DATA = Path(__file__).parent / "data" / "social"
NEWSDESK = "News Desk (@newsdesk)"


def parse(name: str) -> list[Post]:
    return parse_statuses("m", (DATA / name).read_bytes())


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def desk(
    status_id: str, text: str, when: str, lang: str | None = "en", image_url: str | None = None
) -> Post:
    return Post(
        source_id="m",
        post_id=status_id,
        text=text,
        url=f"https://mastodon.example/@newsdesk/{status_id}",
        author=NEWSDESK,
        published_at=at(when),
        lang=lang,
        image_url=image_url,
    )


def test_mastodon_4_quotes_polls_media_and_cards() -> None:
    assert parse("mastodon_v4.json") == [
        # An accepted Quote: the quoted post is context, the "RE:" fallback paragraph goes.
        desk(
            "114500000000000001",
            "Confirmed by the ministry this morning.\n\n"
            "> The ceasefire takes effect at midnight & will be monitored by observers.",
            "2025-06-02T09:30:00",
        ),
        # A pending quote and a ShallowQuote show no quoted text, and the "RE:" fallback goes
        # too: the docs say to hide it whenever a status has a `quote`.
        desk(
            "114500000000000002",
            "Waiting for the author to approve this quote.",
            "2025-06-02T09:40:00",
        ),
        desk(
            "114500000000000003",
            "Quoting a post the server only names by id.",
            "2025-06-02T09:45:00",
        ),
        # Quoting its own earlier post: that post is already one of this source's.
        desk("114500000000000004", "Update: observers have arrived.", "2025-06-02T10:00:00"),
        # A poll: its options are words a topic should match (an untitled option is left out).
        desk(
            "114500000000000005",
            "Should the talks move to Geneva?\n\n• Yes, Geneva\n• No, stay in Istanbul",
            "2025-06-02T11:00:00",
        ),
        # Media only: the descriptions are the text (the same one twice is said once).
        desk(
            "114500000000000006",
            "Delegations shaking hands in front of the palace\nVideo of the signing ceremony",
            "2025-06-02T11:30:00",
            lang=None,
            image_url=(
                "https://files.mastodon.example/media_attachments/files/022/345/792/original/"
                "57859aede991da25.jpeg"
            ),
        ),
        # A link card: provider, title and description as context; its link is in the text.
        desk(
            "114500000000000007",
            "Our analysis: https://paper.example/2025/06/02/talks-analysis\n\n"
            "> The Example Paper\n> Why the Istanbul talks stalled\n"
            "> Three sticking points remain:\n> prisoners, borders and sanctions.",
            "2025-06-02T12:00:00",
        ),
    ]


def test_truth_social_quotes_reblogs_and_numeric_ids() -> None:
    assert parse("truthsocial.json") == [
        Post(
            source_id="m",
            post_id="114600100200300401",
            text=(
                "Great news for our Farmers!\n\n"
                "> Tariff exemption extended for soybean exports through 2026."
            ),
            url="https://truthsocial.com/@realexample/114600100200300401",
            author="Real Example (@realexample)",
            published_at=datetime(2025, 6, 10, 13, 5, 44, 310000, tzinfo=UTC),
        ),
        # A reblog whose own content is empty: the original speaks, at the time of the reblog.
        Post(
            source_id="m",
            post_id="114600100200300402",
            text="Statement on the trade agreement with the United Kingdom.",
            url="https://truthsocial.com/@whitehousenews/114600050000000000",
            author="White House News (@whitehousenews)",
            published_at=at("2025-06-10T13:20:00"),
            lang="en",
            image_url="https://static-assets-1.truthsocial.com/media/signing.jpg",
        ),
        # An id sent as a JSON number; no `url`, so the `uri`.
        Post(
            source_id="m",
            post_id="114600100200300403",
            text="Only a number for an id, and a url missing.",
            url="https://truthsocial.com/users/realexample/statuses/114600100200300403",
            author="Real Example (@realexample)",
            published_at=at("2025-06-10T14:00:00"),
        ),
    ]


def test_pleroma_and_akkoma_quotes_and_plain_text() -> None:
    assert parse("pleroma_akkoma.json") == [
        # pleroma.quote; the spoiler from pleroma.spoiler_text["text/plain"] (not HTML-escaped)
        Post(
            source_id="m",
            post_id="AbCdEfGh0123456789",
            text=(
                "Politics & elections\n\nRunoff set for June 8.\n\n"
                "> Official results: no candidate passed 50%."
            ),
            url="https://pleroma.example/notice/AbCdEfGh0123456789",
            author="Election Observer (@observer)",
            published_at=at("2025-05-20T18:01:02"),
        ),
        # Akkoma: the quoted Status in the top-level `quote`
        Post(
            source_id="m",
            post_id="AbCdEfGh0123456790",
            text=(
                "Akkoma puts the quoted post at the top level.\n\n"
                "> Polling stations close at 20:00 local time."
            ),
            url="https://akkoma.example/notice/AbCdEfGh0123456790",
            author="Akko (@akko)",
            published_at=at("2025-05-20T19:00:00"),
        ),
        # Empty HTML content: the plain-text copy carries the words.
        Post(
            source_id="m",
            post_id="AbCdEfGh0123456791",
            text="Only the plain-text copy carries the words.",
            url="https://pleroma.example/notice/AbCdEfGh0123456791",
            author="Election Observer (@observer)",
            published_at=at("2025-05-20T20:00:00"),
        ),
    ]


def test_gotosocial_content_warning_only_and_missing_fields() -> None:
    assert parse("gotosocial.json") == [
        Post(  # content empty, the words in spoiler_text
            source_id="m",
            post_id="01JX2Q9T8B7F6E5D4C3B2A1Z0Y",
            text="Air raid alert in Kharkiv region",
            url="https://gts.example/@alerts/statuses/01JX2Q9T8B7F6E5D4C3B2A1Z0Y",
            author="Alerts (@alerts)",
            published_at=at("2025-04-01T07:00:00"),
        ),
        Post(  # no language, no display name, media_attachments null
            source_id="m",
            post_id="01JX2QB0000000000000000000",
            text="All clear in Kharkiv region.",
            url="https://gts.example/@alerts/statuses/01JX2QB0000000000000000000",
            author="@alerts",
            published_at=at("2025-04-01T07:30:00"),
        ),
    ]


def test_misskey_quote_renote_and_plain_renote() -> None:
    assert parse("misskey.json") == [
        # A renote with text of its own is a quote: its text, its poll, the renote as context.
        Post(
            source_id="m",
            post_id="a1b2c3d4e5",
            text=(
                "Felt it in Sapporo!\n\n• Strong\n• Weak\n\n"
                "> M5.8 earthquake near the coast of Hokkaido."
            ),
            url="https://misskey.example/notes/a1b2c3d4e5",
            author="@kaiju",
            published_at=at("2025-03-03T03:10:00"),
        ),
        Post(
            source_id="m",
            post_id="a1b2c3d4e6",
            text="Tsunami advisory lifted.",
            url="https://seismo.example/notes/a1b2c3d4d1",
            author="Seismo Bot (@quake@seismo.example)",
            published_at=at("2025-03-03T04:05:00"),
        ),
    ]


def test_odd_fields_are_read_or_left_empty_and_bad_statuses_named(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.sources.mastodon"):
        posts = parse("mastodon_odd.json")
    stamp = at("2025-01-02T03:04:05")
    assert [(p.post_id, p.text, p.url, p.author, p.published_at) for p in posts] == [
        ("101", "Offset without a colon.", "https://odd.example/@a/101", "@a", stamp),
        ("102", "A space instead of T, no zone.", "https://odd.example/@a/102", None, stamp),
        (
            "103",
            "Nanoseconds.",
            "https://odd.example/@a/103",
            None,
            stamp.replace(microsecond=123456),
        ),
        # A link that does not parse falls back to the uri; a time no one can read is none.
        (
            "104",
            "A time no one can read.",
            "https://odd.example/users/a/statuses/104",
            "Only a name",
            None,
        ),
        # Plain text keeps its line break; a javascript: link is no link; a number is no time.
        ("105", "Plain text & no tags,\nover two lines.", None, "@b", None),
        # Every field the wrong type: stored, with nothing to say.
        ("106", "", None, None, None),
        # Characters lxml refuses (NUL, VT, a lone surrogate, U+FFFE) do not cost the text.
        ("108", "Still read after the bad ones.", "https://odd.example/@a/108", "@a", stamp),
    ]
    assert [p.lang for p in posts] == [None] * 7
    assert [r.getMessage() for r in caplog.records] == [
        "source m: status at position 6 has no id; skipped",
        "source m: status at position 7 has no id; skipped",
        "source m: status at position 8 has no id; skipped",
        "source m: item 9 of the page is not a status; skipped",
    ]


def test_a_bug_on_one_status_costs_that_status_only(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = mastodon._post

    def buggy(source_id: str, status_id: str, status: dict[str, object]) -> Post:
        if status_id == "114600100200300402":
            raise KeyError("a bug of ours")
        return real(source_id, status_id, status)

    monkeypatch.setattr(mastodon, "_post", buggy)
    with caplog.at_level(logging.WARNING, logger="bot.sources.mastodon"):
        posts = parse("truthsocial.json")
    assert [p.post_id for p in posts] == ["114600100200300401", "114600100200300403"]
    (record,) = caplog.records
    assert record.getMessage() == "source m: status 114600100200300402 unreadable; skipped"
    assert record.exc_info is not None  # the traceback shows where the bug is


async def test_a_full_page_with_a_bad_status_still_pages_back() -> None:
    """Paging back depends on how many statuses the page held, not how many were readable."""
    page = [{"id": str(n), "content": f"<p>status {n}</p>"} for n in range(1080, 1041, -1)]
    page.insert(5, {"content": "<p>no id</p>"})  # 40 statuses, 39 readable
    router = respx.MockRouter(using=None, assert_all_called=False)
    statuses = router.get("https://mastodon.example/api/v1/accounts/1/statuses")
    statuses.side_effect = [httpx.Response(200, json=page), httpx.Response(200, json=[])]
    http = HttpClient(NetworkSettings(), transport=httpx.MockTransport(router.async_handler))
    source = SourceConfig(
        id="m",
        kind="mastodon",
        url="https://mastodon.example/@newsdesk",
        every=timedelta(minutes=2),
        max_age=timedelta(hours=6),
    )
    cursor = {
        "account": "https://mastodon.example/@newsdesk",
        "account_id": "1",
        "since_id": "1000",
    }
    try:
        fetched = await MastodonAdapter().fetch(
            source, SourceState("m", cursor=cursor), http, at("2025-01-01T00:00:00")
        )
    finally:
        await http.aclose()
    assert statuses.call_count == 2
    assert statuses.calls[1].request.url.params["max_id"] == "1042"
    assert len(fetched.posts) == 39
    assert fetched.state.cursor["since_id"] == "1080"


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("<p>Power&#8;cut&#xFFFE;today</p>", "Power cut today"),
        ("<p>Power&#1cut</p>", "Power cut"),  # no semicolon: HTML still reads a reference
        ('<p>&#1<span class="quote-inline">RE: x</span>Power cut</p>', "Power cut"),
    ],
)
def test_references_to_characters_lxml_refuses_do_not_cost_the_status(
    content: str, text: str
) -> None:
    """lxml decodes "&#8;" and then refuses to write it back (both found by fuzzing)."""
    quote = {"state": "accepted", "quoted_status": {"content": ""}}
    body = json.dumps([{"id": "1", "content": content, "quote": quote}]).encode()
    assert [p.text for p in parse_statuses("m", body)] == [text]
