"""Bluesky author feeds as the AppView really answers: golden items for reposts, pins, replies,
quote posts, link cards, images and video, and rich-text facets.

The fixtures in tests/data/social/ were written from the lexicons: app.bsky.feed.defs
(#feedViewPost, #reasonRepost, #reasonPin, #replyRef, #notFoundPost, #blockedPost),
app.bsky.embed.record (#viewRecord, #viewNotFound, #viewBlocked, #viewDetached),
app.bsky.embed.recordWithMedia, .external, .images, .video and app.bsky.richtext.facet.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

import bot.sources.bluesky as bluesky
from bot.model import Post
from bot.sources.bluesky import parse_author_feed

DATA = Path(__file__).parent / "data" / "social"
DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
AUTHOR = "Kyiv Post Example (@kyivpost.example.com)"


def parse(name: str) -> list[Post]:
    return parse_author_feed("b", (DATA / name).read_bytes()).posts


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def own(rkey: str, text: str, when: str, lang: str | None = None, image: str | None = None) -> Post:
    return Post(
        source_id="b",
        post_id=rkey,
        text=text,
        url=f"https://bsky.app/profile/kyivpost.example.com/post/{rkey}",
        author=AUTHOR,
        published_at=at(when),
        lang=lang,
        image_url=image,
    )


def test_replies_reposts_and_pins() -> None:
    assert parse("bluesky_replies_reposts.json") == [
        # A reply to someone else: the parent's text is context.
        own(
            "3lreply0000a",
            "Our correspondent confirms this.\n\n> Prisoner exchange completed at the border.",
            "2025-07-01T10:00:00",
            lang="en",
        ),
        # A self-thread: the parent is one of this feed's own posts, not repeated.
        own("3lthread002a", "2/ More details in the thread.", "2025-07-01T10:05:00"),
        # #notFoundPost and #blockedPost parents have no text to add.
        own("3lgone00000a", "Replying to a post that was deleted.", "2025-07-01T10:10:00"),
        own("3lblock0000a", "Replying to an account that blocks us.", "2025-07-01T10:15:00"),
        # A repost: the original's text, author, URL and record key, at the time of the repost.
        Post(
            source_id="b",
            post_id="3lroot00000a",
            text="Prisoner exchange completed at the border.",
            url="https://bsky.app/profile/mfa.example.gov/post/3lroot00000a",
            author="Ministry (@mfa.example.gov)",
            published_at=at("2025-07-01T10:20:00"),
            lang="en",
        ),
        # A pin (#reasonPin) is not a repost: the post's own time.
        own("3lpinned000a", "Pinned: how we verify reports.", "2025-01-15T08:00:00"),
    ]


def test_the_pinned_post_does_not_set_how_old_the_page_is() -> None:
    page = parse_author_feed("b", (DATA / "bluesky_replies_reposts.json").read_bytes())
    assert page.newest_at == at("2025-07-01T10:20:00")  # the repost
    assert page.oldest_at == at("2025-07-01T10:00:01")  # not January's pinned post


WIRE = (
    "> Talks resume in Geneva on Monday, diplomats say. "
    "https://wire.example.com/world/talks-resume-geneva-2025-07-01/"
)


def test_quote_posts() -> None:
    assert parse("bluesky_quotes.json") == [
        # #viewRecord by someone else: its text (link facet expanded) is context.
        own("3lquote0001a", f"This is the big one.\n\n{WIRE}", "2025-07-01T11:00:00", "en"),
        # #viewNotFound, #viewBlocked, #viewDetached: nothing to add, nothing breaks.
        own("3lquote0002a", "Quoting a deleted post.", "2025-07-01T11:01:00", "en"),
        own("3lquote0003a", "Quoting someone who blocks us.", "2025-07-01T11:02:00", "en"),
        own("3lquote0004a", "Quoting a post its author detached.", "2025-07-01T11:03:00", "en"),
        # recordWithMedia: the post's own picture (alt text, image) and the quoted record.
        own(
            "3lquote0005a",
            f"Map of the new line, with the wire story.\n\nMap: front line near Pokrovsk\n\n{WIRE}",
            "2025-07-01T11:04:00",
            "en",
            f"https://cdn.bsky.app/img/feed_fullsize/plain/{DID}/bafkreimap@jpeg",
        ),
        # Quoting its own post: already one of this feed's posts.
        own(
            "3lquote0006a", "Update: the talks were moved to Tuesday.", "2025-07-01T11:05:00", "en"
        ),
        # A quoted feed generator: its name and description.
        own(
            "3lquote0007a",
            "Follow our verified feed.\n\n> Ukraine News\n> Verified reporting from the front.",
            "2025-07-01T11:06:00",
            "en",
        ),
    ]


def test_cards_media_and_facets() -> None:
    assert parse("bluesky_embeds_facets.json") == [
        # A link facet after an emoji flag and Cyrillic: its byte offsets (44-80) are not the
        # character offsets (23-59), and the shortened display text becomes the full URL.
        own(
            "3lembed0001a",
            "🇺🇦 Звіт про перемир'я: https://kyivindependent.com/ceasefire-report-2025/ і карта\n\n"
            "> Ceasefire report: what was agreed\n> The full text of the\n"
            "> energy truce, annotated.",
            "2025-07-02T08:00:00",
            "uk",
        ),
        # Images: the alt texts (an empty one left out), the first full-size picture.
        own(
            "3lembed0002a",
            "Two photos from Odesa.\n\nDamaged port crane",
            "2025-07-02T08:01:00",
            image=f"https://cdn.bsky.app/img/feed_fullsize/plain/{DID}/bafkreiodesa1@jpeg",
        ),
        # A video without text: its alt text is the text.
        own("3lembed0003a", "Drone footage of the dam", "2025-07-02T08:02:00"),
        # A link on other words keeps the words; mentions and tags change nothing.
        own(
            "3lembed0004a",
            "Read the report ⚡️ here, thanks @riverkeepers.org #water",
            "2025-07-02T08:03:00",
        ),
        # Facets that cut a character, run past the text, are reversed, are not integers, are
        # not http(s) or have no features are ignored; of two on the same bytes the first wins.
        own(
            "3lembed0005a",
            "Ünïcödé 🙂 https://example.org/a?full=1 and example.org/b",
            "2025-07-02T08:04:00",
        ),
        # No hydrated view: the record's own app.bsky.embed.external card.
        own(
            "3lembed0006a",
            "A card the AppView did not hydrate.\n\n"
            "> Story title from the record\n> https://example.org/story",
            "2025-07-02T08:05:00",
        ),
    ]


def test_the_fixture_facet_offsets_are_bytes_not_characters() -> None:
    """Guards the golden test above: it would pass with character offsets if they agreed."""
    text = "🇺🇦 Звіт про перемир'я: kyivindependent.com/ceasefire-rep... і карта"
    display = "kyivindependent.com/ceasefire-rep..."
    start = text.encode().index(display.encode())
    assert (start, text.index(display)) == (44, 23)


def test_malformed_items_are_skipped_and_named(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.sources.bluesky"):
        page = parse_author_feed("b", (DATA / "bluesky_malformed.json").read_bytes())
    assert page.posts == [
        # A handle that would break the URL: linked and named by the DID; a javascript: image
        # falls back to the thumbnail; `langs` not a list and `createdAt` a number are ignored.
        Post(
            source_id="b",
            post_id="3lweird0000a",
            text="A handle that would break the URL.",
            url=f"https://bsky.app/profile/{DID}/post/3lweird0000a",
            author=DID,
            published_at=at("2025-07-03T09:02:00"),
            image_url=f"https://cdn.bsky.app/img/feed_thumbnail/plain/{DID}/bafkreiok@jpeg",
        ),
        Post(
            source_id="b",
            post_id="3lgood00000a",
            text="Still read after the bad ones.",
            url="https://bsky.app/profile/kyivpost.example.com/post/3lgood00000a",
            author="@kyivpost.example.com",
            published_at=at("2025-07-03T09:03:00"),
        ),
    ]
    assert page.cursor is None  # a number is no cursor
    skipped = "is not a readable post; skipped"
    assert [r.getMessage() for r in caplog.records] == [
        f"source b: feed item at position 0 {skipped}",
        f"source b: feed item at position 1 {skipped}",
        f"source b: feed item at://{DID}/app.bsky.feed.post/3lnorecord0a {skipped}",
        f"source b: feed item at://{DID}/app.bsky.feed.post/3lnoauthor0a {skipped}",
        f"source b: feed item at position 4 {skipped}",
        f"source b: feed item at://{DID}/app.bsky.feed.like/3llike00000a {skipped}",
        f"source b: feed item at://not a did/app.bsky.feed.post/3lbaddid0000 {skipped}",
    ]


def test_a_bug_on_one_item_costs_that_item_only(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = bluesky._record_text

    def buggy(record: dict[str, object]) -> str:
        if record.get("text") == "Quoting a deleted post.":
            raise TypeError("a bug of ours")
        return real(record)

    monkeypatch.setattr(bluesky, "_record_text", buggy)
    with caplog.at_level(logging.WARNING, logger="bot.sources.bluesky"):
        posts = parse("bluesky_quotes.json")
    assert len(posts) == 6
    assert "3lquote0002a" not in {p.post_id for p in posts}
    (record,) = caplog.records
    assert record.getMessage() == (
        f"source b: feed item at://{DID}/app.bsky.feed.post/3lquote0002a unreadable; skipped"
    )
    assert record.exc_info is not None
