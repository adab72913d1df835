"""HTML → plain text, and timestamps as sources write them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.sources.html import Reduced, html_to_text, reduce_html, tidy_text
from bot.sources.timestamps import parse_timestamp


@pytest.mark.parametrize(
    ("fragment", "text"),
    [
        ("<p>One<br>two<br/>three</p><p>Next paragraph</p>", "One\ntwo\nthree\n\nNext paragraph"),
        ("<div>a</div><div>b</div>", "a\nb"),
        ("<ul><li>first</li><li>second</li></ul>after", "first\nsecond\n\nafter"),
        (
            "Fish &amp; chips &mdash; &#8220;cheap&#8221; &#x2014; 5&nbsp;&euro;",
            "Fish & chips \u2014 \u201ccheap\u201d \u2014 5 \u20ac",
        ),
        (
            "<p>keep</p><script>alert('x')</script><style>p{color:red}</style><p>this</p>",
            "keep\n\nthis",
        ),
        ("<!-- SC_OFF --><p>visible</p><!-- SC_ON -->", "visible"),
        ("<p>  lots   of\n\n   space\t here  </p>", "lots of space here"),
        ("<p>a</p>\n\n\n<p></p><p></p><p>b</p>", "a\n\nb"),
        ("<b>bold</b> and <a href='https://x.example'>a link</a>", "bold and a link"),
        ("a < b and c > d", "a < b and c > d"),
        ("<pre>line 1\nline 2</pre>", "line 1\nline 2"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_html_to_text(fragment: str, text: str) -> None:
    assert html_to_text(fragment) == text


def test_plain_text_keeps_its_line_breaks_and_decodes_entities() -> None:
    # Feeds put plain text in description as often as HTML; a newline there is a line break.
    assert html_to_text("Line one\nLine two &amp; more") == "Line one\nLine two & more"


def test_escaped_markup_stays_literal_text() -> None:
    assert html_to_text("&lt;b&gt;not bold&lt;/b&gt;") == "<b>not bold</b>"


def test_first_image_is_resolved_and_tracking_pixels_skipped() -> None:
    fragment = (
        '<img src="https://feeds.example/pixel.gif" width="1" height="1">'
        '<img src="data:image/png;base64,AAAA">'
        '<p>Text</p><img src="/media/a.jpg"><img src="/media/b.jpg">'
    )
    reduced = reduce_html(fragment, base_url="https://site.example/posts/1")
    assert reduced.image_url == "https://site.example/media/a.jpg"
    assert reduced.text == "Text"


def test_lazy_loaded_image_inside_noscript_is_found() -> None:
    fragment = (
        '<img src="data:image/gif;base64,R0lGOD" data-src="/a.jpg">'
        '<noscript><img src="https://site.example/a.jpg"></noscript><p>Caption</p>'
    )
    assert reduce_html(fragment) == Reduced("Caption", "https://site.example/a.jpg")


def test_tidy_text() -> None:
    assert tidy_text("  a\u00a0\u00a0b \r\n\r\n\r\n\r\n c  ") == "a b\n\nc"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue, 05 Mar 2024 14:32:11 GMT", datetime(2024, 3, 5, 14, 32, 11, tzinfo=UTC)),
        ("Tue, 05 Mar 2024 14:32:11 +0100", datetime(2024, 3, 5, 13, 32, 11, tzinfo=UTC)),
        ("05 Mar 2024 14:32 EST", datetime(2024, 3, 5, 19, 32, tzinfo=UTC)),
        ("2024-03-05T14:32:11Z", datetime(2024, 3, 5, 14, 32, 11, tzinfo=UTC)),
        (
            "2024-03-05T14:32:11.123456789+02:00",
            datetime(2024, 3, 5, 12, 32, 11, 123456, tzinfo=UTC),
        ),
        ("2024-03-05t14:32:11z", datetime(2024, 3, 5, 14, 32, 11, tzinfo=UTC)),
        ("2024-03-05", datetime(2024, 3, 5, tzinfo=UTC)),
        ("2024-03-05T14:32:11", datetime(2024, 3, 5, 14, 32, 11, tzinfo=UTC)),  # no zone: UTC
        ("yesterday", None),
        ("Tue, 31 Feb 2024 10:00:00 GMT", None),
        ("2024-13-45T00:00:00Z", None),
        ("0001-01-01T00:00:00+01:00", None),  # before the calendar once in UTC
        ("", None),
        (None, None),
        (1709648331, None),
    ],
)
def test_parse_timestamp(value: object, expected: datetime | None) -> None:
    parsed = parse_timestamp(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is UTC
