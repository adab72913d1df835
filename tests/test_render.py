"""Rendering alerts as Telegram HTML: layout, escaping, highlighting, and fitting the limits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest
from fakes.telegram_rules import visible_text
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.classify.watchlist import highlight_spans
from bot.deliver.measure import CAPTION_LIMIT, MESSAGE_LIMIT, utf16_len, visible_length
from bot.deliver.render import render_alert, render_plain
from bot.model import Alert, Post

PUBLISHED = datetime(2026, 3, 18, 14, 5, 59, tzinfo=UTC)
TELEGRAM_TAGS = {"b", "i", "a", "code", "pre", "blockquote"}


def _alert(
    text: str = "Talks resume.",
    *,
    title: str | None = "A & B",
    author: str | None = "Press <Office>",
    url: str | None = 'https://example.org/a?x=1&y="2"',
    published_at: datetime | None = PUBLISHED,
    topics: tuple[str, ...] = ("Ukraine ceasefire", "Gaza"),
    terms: tuple[str, ...] = (),
) -> Alert:
    post = Post("whitehouse", "1", text, url, author, title, published_at)
    return Alert(1, "-100123", post, "rss", topics, terms)


def test_layout_escapes_every_field() -> None:
    assert render_alert(_alert()) == (
        "🔔 <b>Ukraine ceasefire · Gaza</b>\n"
        "<i>Press &lt;Office&gt;</i> · example.org\n"
        "\n"
        "<b>A &amp; B</b>\n"
        "Talks resume.\n"
        "\n"
        '2026-03-18 14:05 UTC · <a href="https://example.org/a?x=1&amp;y=&quot;2&quot;">'
        "Open original</a>"
    )


def test_plain_text_has_no_markup_and_shows_the_url() -> None:
    assert render_plain(_alert()) == (
        "🔔 Ukraine ceasefire · Gaza\n"
        "Press <Office> · example.org\n"
        "\n"
        "A & B\n"
        "Talks resume.\n"
        "\n"
        '2026-03-18 14:05 UTC · https://example.org/a?x=1&y="2"'
    )


def test_optional_fields_drop_their_lines() -> None:
    alert = _alert(title=None, author=None, url=None, published_at=None, topics=())
    assert render_alert(alert) == "<i>whitehouse</i>\n\nTalks resume."  # no author, no link


def test_a_source_name_heads_the_alert_with_the_author_and_platform() -> None:
    alert = replace(_alert(author="Donald J. Trump"), source_name="Trump on Truth Social")
    post = replace(alert.post, url="https://truthsocial.com/@realDonaldTrump/1")
    line = render_plain(replace(alert, post=post)).splitlines()[1]
    assert line == "Trump on Truth Social · Donald J. Trump · Truth Social"
    nameless = replace(alert, source_name=None, post=post)
    assert render_plain(nameless).splitlines()[1] == "Donald J. Trump · Truth Social"
    unlinked = Alert(1, "-1", Post("zelensky-tg", "1", "Text"), "telegram", (), ())
    assert render_plain(unlinked).splitlines()[0] == "zelensky-tg · Telegram"


def test_time_is_shown_in_utc_and_falls_back_to_now() -> None:
    kyiv = timezone(timedelta(hours=2))
    assert "2026-03-18 14:05 UTC" in render_alert(_alert(published_at=PUBLISHED.astimezone(kyiv)))
    untimed = _alert(published_at=None)
    assert "2026-03-19 08:00 UTC" in render_alert(untimed, now=datetime(2026, 3, 19, 8, tzinfo=UTC))


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://example.org/x", "/relative"])
def test_only_http_links_are_linked(url: str) -> None:
    assert "<a " not in render_alert(_alert(url=url))


def test_matched_terms_are_bold_and_escaped_piecewise() -> None:
    alert = _alert("Talks on a <ceasefire> & more ceasefire talk", terms=("ceasefire",))

    html = render_alert(alert, highlight=highlight_spans)

    assert "Talks on a &lt;<b>ceasefire</b>&gt; &amp; more <b>ceasefire</b> talk\n" in html
    assert visible_length(html) == visible_length(render_alert(alert))


def test_no_terms_means_no_highlighting() -> None:
    calls: list[str] = []

    def spy(text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
        calls.append(text)
        return [(0, 5)]

    assert render_alert(_alert(), highlight=spy) == render_alert(_alert())
    assert calls == []


def test_long_text_is_trimmed_keeping_header_time_and_link() -> None:
    alert = _alert("word " * 2000)

    html = render_alert(alert)

    assert visible_length(html) <= MESSAGE_LIMIT
    assert html.startswith("🔔 <b>Ukraine ceasefire · Gaza</b>\n")
    assert html.endswith(">Open original</a>")
    assert "word…\n\n2026-03-18 14:05 UTC" in html


def test_limit_counts_utf16_units_so_emoji_count_twice() -> None:
    alert = _alert("😀" * 3000)  # 3000 code points, 6000 UTF-16 units

    html = render_alert(alert)

    assert len(html) < MESSAGE_LIMIT  # what a naive count would already accept
    assert visible_length(html) <= MESSAGE_LIMIT
    assert "😀…" in html  # no half surrogate pair before the ellipsis


def test_caption_limit() -> None:
    html = render_alert(_alert("x" * 5000), limit=CAPTION_LIMIT)
    assert CAPTION_LIMIT - 2 <= visible_length(html) <= CAPTION_LIMIT


def test_trim_never_separates_a_letter_from_its_accent() -> None:
    text = "e\u0301" * 3000  # é as e + combining acute
    body = render_plain(_alert(text, title=None)).split("\n\n")[1]

    assert body.endswith("e\u0301…")


def test_highlight_past_the_cut_never_covers_the_ellipsis() -> None:
    text = "a" * 5000 + " ceasefire"
    html = render_alert(_alert(text), highlight=lambda t, terms: [(4000, len(t))])

    assert "<b>…" not in html
    assert "…</b>" not in html


def test_absurd_fields_are_trimmed_too() -> None:
    alert = _alert("text", title="T" * 5000, author="A" * 5000, topics=("X" * 5000,))
    html = render_alert(alert)
    assert visible_length(html) <= MESSAGE_LIMIT
    assert html.endswith(">Open original</a>")


def test_tiny_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="too small"):
        render_alert(_alert(), limit=10)


def test_utf16_len_and_visible_length() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("🇺🇦") == 4
    assert utf16_len("ё") == 1
    assert visible_length('<b>a &amp; b</b> <a href="x&amp;y">😀</a>') == 8


# --- properties ---------------------------------------------------------------------------

_NASTY = st.sampled_from(
    [
        "<",
        ">",
        "&",
        '"',
        "'",
        "&amp;",
        "<b>",
        "\n",
        " ",
        "й",
        "Ж",
        "😀",
        "🇺🇦",
        "👩‍💻",
        "\u0301",
        "e",
    ]
)
_PIECE = st.one_of(_NASTY, st.characters(codec="utf-8"))
_FRAGMENT = st.lists(_PIECE, max_size=40).map("".join)
# Long texts cheaply: a random fragment repeated, so trimming happens at every limit.
_TEXT = st.one_of(
    _FRAGMENT,
    st.tuples(_FRAGMENT.filter(bool), st.integers(20, 600)).map(lambda pair: pair[0] * pair[1]),
)
_SHORT = st.lists(_PIECE, max_size=30).map("".join)
_LIMITS = st.sampled_from([64, 300, CAPTION_LIMIT, MESSAGE_LIMIT])


class _Structure(HTMLParser):
    """Checks what Telegram needs: only its tags, balanced; collects the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in TELEGRAM_TAGS
        assert tag != "b" or "b" not in self.open  # highlight never nests inside a bold title
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open.pop() == tag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _well_formed(html: str) -> str:
    parser = _Structure()
    parser.feed(html)
    parser.close()
    assert parser.open == []
    shown = "".join(parser.text)
    assert visible_text(html) == shown  # the fake Bot API's strict Telegram parser agrees
    return shown


@settings(max_examples=200, deadline=None)
@given(
    text=_TEXT,
    title=_SHORT,
    author=_SHORT,
    limit=st.sampled_from([CAPTION_LIMIT, MESSAGE_LIMIT]),
    data=st.data(),
)
def test_any_text_renders_well_formed_within_the_limit_keeping_a_prefix(
    text: str, title: str, author: str, limit: int, data: st.DataObject
) -> None:
    spans = data.draw(
        st.lists(st.tuples(st.integers(-5, len(text) + 5), st.integers(-5, len(text) + 5)))
    )
    alert = _alert(text, title=title, author=author, terms=("any",))

    html = render_alert(alert, highlight=lambda t, terms: spans, limit=limit)
    shown = _well_formed(html)
    plain = render_plain(alert, limit=limit)

    assert utf16_len(shown) <= limit
    assert utf16_len(plain) <= limit
    assert shown == _well_formed(render_alert(alert, limit=limit))  # highlighting adds no text
    if text[: limit // 4].strip():  # else a trim may keep only whitespace, dropping the body
        # Short title and author: only the post text is trimmed, to a prefix of itself.
        head = f"🔔 Ukraine ceasefire · Gaza\n{author or 'whitehouse'} · example.org\n\n"
        head += f"{title}\n" if title else ""
        tail = "\n\n2026-03-18 14:05 UTC · Open original"
        assert shown.startswith(head)
        assert shown.endswith(tail)
        body = shown[len(head) : -len(tail)]
        assert body == text or (body.endswith("…") and text.startswith(body[:-1]))


@settings(max_examples=150, deadline=None)
@given(
    text=_TEXT,
    title=_TEXT,
    author=_TEXT,
    topics=st.lists(_SHORT, max_size=30).map(tuple),
    limit=_LIMITS,
)
def test_any_fields_fit_any_limit(
    text: str, title: str, author: str, topics: tuple[str, ...], limit: int
) -> None:
    alert = _alert(text, title=title, author=author, topics=topics)

    assert utf16_len(_well_formed(render_alert(alert, limit=limit))) <= limit
    assert utf16_len(render_plain(alert, limit=limit)) <= limit


def test_the_post_text_outlasts_huge_carrier_names() -> None:
    # A relay copy signed with 5,000 characters used to push the post text out of the edit.
    text = "Productive call with President Putin. We agreed to an immediate ceasefire. " * 3
    names = ("X" * 5000, *(f"@mirror{n} (X)" for n in range(16)))
    alert = replace(_alert(text.strip()), also_posted_by=names)
    for limit in (MESSAGE_LIMIT, CAPTION_LIMIT):
        shown = visible_text(render_alert(alert, limit=limit))
        assert text.strip() in shown
        assert f"X{'X' * 62}…, @mirror0 (X)" in shown  # one name is at most 64 units
        assert "@mirror3 (X) and 12 more" in shown
        assert utf16_len(shown) <= limit


def test_a_long_post_still_keeps_its_names_author_and_title() -> None:
    alert = replace(_alert("word " * 2000, author="Donald J. Trump"), also_posted_by=("@a (X)",))
    shown = visible_text(render_alert(alert))
    assert "Also posted by: @a (X)" in shown
    assert "Donald J. Trump" in shown and "A & B" in shown
    assert utf16_len(shown) <= MESSAGE_LIMIT
