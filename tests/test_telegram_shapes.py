"""Telegram channel previews (t.me/s/CHANNEL) with every kind of message a channel page shows:
golden posts for text with markup and emoji images, forwards, albums, polls, link previews,
replies, videos, and what is skipped (service messages, stickers, voice notes, unsupported media).

tests/data/social/telegram_kinds.html was written by us after the widget markup t.me serves:
`.tgme_widget_message` blocks with `data-post="CHANNEL/ID"` and the `tgme_widget_message_*`,
`link_preview_*` classes inside.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

import bot.sources.telegram as telegram
from bot.model import Post
from bot.sources.telegram import parse_channel_page

PAGE = (Path(__file__).parent / "data" / "social" / "telegram_kinds.html").read_bytes()
CDN = "https://cdn4.cdn-telegram.org/file"


def message(
    number: int, text: str, when: str, author: str = "Frontline Wire", image_url: str | None = None
) -> Post:
    return Post(
        source_id="tg",
        post_id=str(number),
        text=text,
        url=f"https://t.me/frontlinewire/{number}",
        author=author,
        published_at=datetime.fromisoformat(when).replace(tzinfo=UTC),
        image_url=image_url,
    )


def test_every_kind_of_message() -> None:
    assert parse_channel_page("tg", PAGE) == [
        # <b>, <i>, <br>, a link, emoji images: the emoji themselves stay, markup goes; the
        # views counter and the "edited" marker are not text.
        message(
            701,
            "⚡️BREAKING: energy truce extended by 30 days\n\n"
            "❗️Details: wire.example.org/truce\n#truce",
            "2025-08-01T07:15:00",
        ),
        # A forward: written by whom it was forwarded from.
        message(
            702,
            "Scheduled outages are cancelled in Kyiv region tonight.",
            "2025-08-01T07:30:00",
            author="Ministry of Energy",
        ),
        # An album: one post, its caption, its first picture (the video's duration is no text).
        message(
            705,
            "Repair crews at the Kyiv substation this morning.",
            "2025-08-01T08:00:00",
            image_url=f"{CDN}/album-one.jpg",
        ),
        # A poll: question and options, not "Anonymous poll", percents or the vote count.
        message(
            706,
            "Will the energy truce hold until winter?\n\n"
            "• Yes, 👍 it will\n• No, strikes will resume",
            "2025-08-01T08:30:00",
        ),
        # A link preview: site, title and description as context, and the link the text hid.
        message(
            708,
            "Read the analysis here\n\n> Analysis Weekly\n> What the energy truce covers\n"
            "> Power plants, substations and the grid — but not ports.\n"
            "> https://analysis.example.com/truce-explained",
            "2025-08-01T09:00:00",
        ),
        # A reply within the channel: the quoted message is one of this source's posts.
        message(709, "Update: the extension starts on Monday.", "2025-08-01T09:30:00"),
        # A reply to another channel's message: the quoted text is context.
        message(
            710,
            "Good news for the winter.\n\n> Gas storage reached 80% ahead of schedule.",
            "2025-08-01T10:00:00",
        ),
        # A video without caption: stored like a photo without caption, with its poster frame.
        message(713, "", "2025-08-01T10:15:00", image_url=f"{CDN}/video-thumb.jpg"),
        # A forward from a hidden user, signed by an editor: the forward's name wins.
        message(716, "Lights are back on in Obolon.", "2025-08-01T10:30:00", author="Olena K."),
    ]


def test_what_is_skipped_and_why(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="bot.sources.telegram"):
        parse_channel_page("tg", PAGE)
    lines = [(r.levelno, r.getMessage()) for r in caplog.records]
    nothing = "has nothing to read (sticker, voice, file)"
    assert lines == [
        (logging.DEBUG, "source tg: service message frontlinewire/700 skipped"),  # renamed
        (logging.DEBUG, "source tg: service message frontlinewire/707 skipped"),  # pinned
        (logging.DEBUG, f"source tg: message frontlinewire/711 {nothing}"),  # sticker
        (logging.DEBUG, f"source tg: message frontlinewire/712 {nothing}"),  # voice
        (logging.DEBUG, f"source tg: message frontlinewire/714 {nothing}"),  # not supported
        (logging.WARNING, "source tg: message frontlinewire/ has no channel/id; skipped"),
        (logging.DEBUG, "source tg: service message frontlinewire/715 skipped"),  # photo
    ]


def test_page_furniture_never_reaches_the_text() -> None:
    text = "\n".join(post.text for post in parse_channel_page("tg", PAGE))
    for furniture in ("125.3K", "edited", "Anonymous poll", "61%", "votes", "0:42", "VIEW IN"):
        assert furniture not in text
    assert "ceasefire updates" not in text  # the service message's new channel name


def test_a_bug_on_one_message_costs_that_message_only(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = telegram._background_image

    def buggy(styles: list[str]) -> str | None:
        if any("album-one" in style for style in styles):
            raise IndexError("a bug of ours")
        return real(styles)

    monkeypatch.setattr(telegram, "_background_image", buggy)
    with caplog.at_level(logging.WARNING, logger="bot.sources.telegram"):
        posts = parse_channel_page("tg", PAGE)
    assert [p.post_id for p in posts] == ["701", "702", "706", "708", "709", "710", "713", "716"]
    bug = [r for r in caplog.records if r.exc_info]
    assert [r.getMessage() for r in bug] == [
        "source tg: message frontlinewire/705 unreadable; skipped"
    ]


@pytest.mark.parametrize("junk", [b"\x08", b"&#8;", b"\x0c", b"\xef\xbf\xbe", b"&#xFFFF;"])
def test_characters_lxml_refuses_do_not_cost_the_message(junk: bytes) -> None:
    """libxml2 keeps control characters and U+FFFE/U+FFFF in the tree, raw or as references,
    but refuses to write them back, which reducing a message to text does (found by fuzzing)."""
    page = (
        b'<html><body><div class="tgme_widget_message" data-post="frontlinewire/1">'
        b'<div class="tgme_widget_message_text">Power' + junk + b"cut</div></div></body></html>"
    )
    assert [p.text for p in parse_channel_page("tg", page)] == ["Power cut"]


def test_the_channel_title_from_og_title_is_cleaned_too() -> None:
    page = (
        b'<html><head><meta property="og:title" content="Frontline&#1;Wire\x02"></head><body>'
        b'<div class="tgme_channel_info_header_title"></div>'
        b'<div class="tgme_widget_message" data-post="frontlinewire/1">'
        b'<div class="tgme_widget_message_text">Power cut</div></div></body></html>'
    )
    assert [p.author for p in parse_channel_page("tg", page)] == ["Frontline Wire"]
