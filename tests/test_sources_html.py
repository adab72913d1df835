"""HTML → plain text, and timestamps as sources write them."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from bot.sources.html import (
    Reduced,
    html_to_text,
    reduce_html,
    resolve_link,
    tidy_text,
    tolerant_text,
)
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


@pytest.mark.parametrize(
    ("fragment", "text"),
    [
        # The text after an embed stays; an embed's content is the fallback a reader sees.
        ('safe<iframe src="https://x.example/"></iframe> description', "safe description"),
        ('safe<iframe src="https://x.example/"> <b>in</b> it</iframe> after', "safe in it after"),
        ("safe<iframe src=x> left open, then <b>more</b>", "safe left open, then more"),
        ('safe<IFRAME SRC="x">upper case</IFRAME>after', "safe upper case after"),
        (
            'safe<object data="a.swf"><param name="m" value="a">Flash clip</object> after',
            "safe Flash clip after",
        ),
        ('safe<object classid="x"> <b>unclosed</b> object', "safe unclosed object"),
        ('safe<embed src="a.swf"> description', "safe description"),
        ('safe<applet code="T.class">Ticker</applet> description', "safe Ticker description"),
        ('safe<frameset rows="*"><frame src="a.html"></frameset> description', "safe\ndescription"),
        ("<blink>safe</blink> description", "safe description"),
        ("x<noscript>shown without scripts</noscript>y", "x\nshown without scripts\ny"),
        (
            "x<noembed>no plugin</noembed>y <noframes>no <i>frames</i></noframes>z",
            "x\nno plugin\ny\nno frames\nz",
        ),
        # Embeds stand between words, as a browser draws them.
        ('one<img src="a.png">two<embed src="b">three', "one two three"),
        # Script, style and template content is never shown, and the text after them stays.
        ("safe<script>location.href='x'</script> description", "safe description"),
        ("safe<style>p { color: red }</style> description", "safe description"),
        ("a<template><p>inert</p></template>b", "ab"),
        ("<title>Document title</title><p>Body</p>", "Body"),  # the head is metadata
        ("<svg><title>Chart of votes</title><circle r='5'/></svg> after", "Chart of votes after"),
        ("<textarea>typed <b>text</b></textarea>", "typed <b>text</b>"),  # raw, as shown
    ],
)
def test_removed_elements_keep_their_tails(fragment: str, text: str) -> None:
    assert html_to_text(fragment) == text


def test_an_unclosed_script_hides_the_rest_as_a_browser_does() -> None:
    # HTML 13.2.5.4: script data runs to "</script>"; a browser shows none of it either.
    assert html_to_text("<p>shown</p><script>var a = 1; <p>not shown</p>") == "shown"


@pytest.mark.parametrize(
    ("fragment", "text"),
    [
        ("don\x92t \x93quote\x94 \x96 dash \x97 more\x85", "don’t “quote” – dash — more…"),
        ("<p>Caf\xe9 \x80 5</p>", "Café € 5"),
        ("a\x81b\x8dc\x8fd\x90e\x9df", "abcdef"),  # undefined in windows-1252: deleted
        ("end\x85", "end…"),  # U+0085 is whitespace to Python: repaired before collapsing
    ],
)
def test_c1_controls_are_windows_1252_punctuation(fragment: str, text: str) -> None:
    assert html_to_text(fragment) == text
    assert tidy_text(fragment.replace("<p>", "").replace("</p>", "")) == text


def test_lone_surrogates_do_not_cut_the_text() -> None:
    # libxml2 stops at a character it cannot encode; JSON can spell one ("\ud800").
    assert html_to_text("a\ud800b<b>bold</b> after") == "a\ufffdbbold after"
    assert tidy_text("x\udfffy") == "x\ufffdy"


@pytest.mark.parametrize(
    ("url", "base", "resolved"),
    [
        ("/a/b", "https://x.example/c/d", "https://x.example/a/b"),
        ("https://y.example/", "https://x.example/", "https://y.example/"),
        ("rel", None, "rel"),
        ("  ", "https://x.example/", None),
        (None, "https://x.example/", None),
        ("http://[::1", None, None),  # urllib: "Invalid IPv6 URL"
        ("http://example.c[o.test/", None, None),
        ("http://x.example:99999/", None, None),  # port out of range
        ("/a", "http://[::1", None),
    ],
)
def test_resolve_link_never_raises(url: str | None, base: str | None, resolved: str | None) -> None:
    assert resolve_link(url, base) == resolved


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
        ("2024-03", datetime(2024, 3, 1, tzinfo=UTC)),  # W3C-DTF year and month
        ("2024", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-13", None),
        ("2024-03-05T14:32+01:00", datetime(2024, 3, 5, 13, 32, tzinfo=UTC)),  # no seconds
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


@pytest.mark.parametrize(
    ("fragment", "text"),
    [
        ("<p>cease\x0bfire</p>", "cease fire"),  # lxml refused the whole fragment
        ("<p>x &#8; y &#x1F; z &#11;</p>", "x y z"),
        ("<p>a\ufffeb\uffff</p>", "a b"),
        ("<p>lone \ud800 surrogate</p>", "lone \ufffd surrogate"),
        ("plain &#8; text", "plain text"),
        ("<p>tab\tand&#10;newline&#9;kept</p>", "tab and newline kept"),
    ],
)
def test_characters_lxml_refuses_cost_only_themselves(fragment: str, text: str) -> None:
    assert reduce_html(fragment).text == text


@pytest.mark.parametrize("tag", ["div", "b", "span"])
def test_html_nested_past_libxml2s_depth_keeps_its_text(
    tag: str, caplog: pytest.LogCaptureFixture
) -> None:
    deep = f"<p>Before</p>{f'<{tag}>' * 100_000}Ceasefire agreed{f'</{tag}>' * 100_000}<p>after</p>"
    caplog.set_level(logging.WARNING)
    reduced = reduce_html(deep)
    assert "Before" in reduced.text and "Ceasefire agreed" in reduced.text
    assert reduced.text.endswith("after")
    assert "read again with the tolerant parser" in caplog.text  # said, not silent


def test_the_tolerant_parser_reduces_as_lxml_does() -> None:
    fragment = (
        "<p>One <b>two</b></p><ul><li>three</li><li>four</li></ul>five<br>six"
        "<script>hidden()</script><style>p{}</style>seven &amp; eight"
    )
    assert tolerant_text(fragment) == reduce_html(fragment).text
