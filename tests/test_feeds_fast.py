"""The shortcuts a feed item's text takes (issue 12) give what the long way gives.

Each shortcut is checked against the code it stands in for, on generated input: the tree-free
reading of simple HTML against `reduce_html` (lxml's HTML parser), the one-line tidy against
`tidy_text`, the RFC 822 date reader against `parse_timestamp`, the partial folding against
folding the whole text.
"""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.sources.feed_entry import _folded, _published, _restates
from bot.sources.feed_markup import reduce_feed_html, simple_markup_text, title_line
from bot.sources.html import prepared_fragment, reduce_html, tidy_line, tidy_text
from bot.sources.timestamps import parse_timestamp

MANY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text with what has tripped HTML readers: entities with and without ";", numeric references
# to controls, C1 and the private-use markers, every kind of space, "<" and ">" alone.
_SPACES = [" ", "  ", "\n", "\t", "\r\n", "\xa0", "\u2003", "\x85"]
_WORDS = ["word", "Слово", "日本", "x", "&", ">", "\ue001"]
_NAMED = ["&amp;", "&nbsp;", "&mdash;", "&lang;", "&notit;", "&copy", "&bogus;", "&lt;b&gt;"]
_NUMERIC = ["&#150;", "&#x85;", "&#129;", "&#12", "&#0;", "&#xe000;"]
_TEXT = st.lists(st.sampled_from(_SPACES + _WORDS + _NAMED + _NUMERIC), max_size=4).map("".join)
_INLINE = st.sampled_from(
    ["b", "I", "em", "code", "q", "u", "strike", "a href='x'", 'a href="/y?a=1&amp;b"']
) | st.sampled_from(["span class=x", "font color=red", "sup", "mark", "img src=x.png", "small"])
_BLOCK = st.sampled_from(["p", "P", "div", "h2", "blockquote", "section", "pre", "td"])
_BREAK = st.sampled_from(["<br>", "<br/>", "<BR />", "<br clear=all>"])


def _element(name: str, content: str) -> str:
    return f"<{name}>{content}</{name.split(maxsplit=1)[0]}>"


def _inline(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return _TEXT | _BREAK | st.builds(_element, _INLINE, inner)


_PHRASING = st.recursive(_TEXT, _inline, max_leaves=8)
_RUN = st.lists(_PHRASING, max_size=4).map("".join)


def _flow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    items = st.lists(st.builds(_element, st.just("li"), inner), max_size=3).map(" ".join)
    return (
        _RUN
        | st.builds(_element, _BLOCK, _RUN)
        | st.builds(_element, st.sampled_from(["div", "blockquote"]), inner)
        | st.builds(_element, st.sampled_from(["ul", "ol"]), items)
    )


_FLOW = st.recursive(_RUN, _flow, max_leaves=10)
# A stray tag somewhere: most fragments then leave the shortcut, and must leave it whole.
_STRAY = st.sampled_from(["", "<p>", "</p>", "<li>", "</b>", "<div>", "<b>", "<!-- c -->"])
FRAGMENTS = st.builds(
    lambda parts, stray, at: "".join(parts)[:at] + stray + "".join(parts)[at:],
    st.lists(_FLOW, min_size=1, max_size=3),
    _STRAY,
    st.integers(0, 400),
)


@MANY
@given(FRAGMENTS)
def test_simple_markup_reads_as_the_html_parser_does(fragment: str) -> None:
    logging.disable(logging.WARNING)  # the tree path warns on fragments it reads twice
    try:
        expected = reduce_html(fragment).text
    except ValueError:
        return  # lxml refuses some text outright; the shortcut is not asked to
    finally:
        logging.disable(logging.NOTSET)
    assert reduce_feed_html(fragment, None).text == expected
    assert title_line(fragment) == " ".join(expected.split())


@pytest.mark.parametrize(
    "fragment",
    [
        "<p>Fish &amp; chips&nbsp;&mdash; 5&euro;</p>",
        "<p>One<br>two</p><p>Next</p>",
        "<ul><li>first</li> <li>second <b>bold</b></li></ul>after",
        "<div>a<p>b</p>c</div>",
        '<p class="lead">Lead</p><blockquote>Quote</blockquote>',
        "<h2>Heading</h2>Text <a href=https://x.example/a>link</a>",
    ],
)
def test_common_feed_markup_takes_the_shortcut(fragment: str) -> None:
    prepared = prepared_fragment(fragment)
    assert simple_markup_text(prepared) == reduce_html(fragment).text


@pytest.mark.parametrize(
    "fragment",
    [
        "<p>a<div>b</div>c</p>",  # libxml2 ends the paragraph at the div
        "<p>a<p>b",  # unclosed
        "<b>a<i>b</b></i>",  # misnested
        '<img src="a.png">',  # an image to find
        "<p>a < b</p>",
        "<p>&#xe000;</p>",  # a reference to one of our own markers
        '<a title="x>y">z</a>',
        "<pre>a\n b</pre>",
    ],
)
def test_other_markup_takes_the_tree(fragment: str) -> None:
    assert simple_markup_text(prepared_fragment(fragment)) is None


@MANY
@given(st.text(st.sampled_from(" \t\n\r\xa0\u2003\x85\x1c\x0b\x81\ud800\ufffe\x01aé&;#x")))
def test_tidy_line_is_tidy_text_on_one_line(text: str) -> None:
    assert tidy_line(text) == " ".join(tidy_text(text).split())


_DATES = st.builds(
    "{}{} {} {} {}:{}:{} {}{}".format,
    st.sampled_from(["", "Wed, ", "Mon, ", "Sun,", "Xyz, ", " "]),
    st.sampled_from(["1", "07", "18", "29", "30", "31", "0", "32"]),
    st.sampled_from(["Jan", "Feb", "Mar", "Dec", "mar", "Foo"]),
    st.sampled_from(["2026", "2024", "1999", "0099", "1000", "9999", "0001", "26"]),
    st.sampled_from(["00", "07", "23", "24", "7"]),
    st.sampled_from(["00", "59", "60"]),
    st.sampled_from(["00", "59", "60", "61"]),
    st.sampled_from(["+0000", "-0000", "GMT", "UT", "UTC", "Z", "EST", "+0130", "-2359"])
    | st.sampled_from(["+0099", "+2360", "-2400", "+9999", "+01:00", ""]),
    st.sampled_from(["", " ", "\n"]),
)


@MANY
@given(_DATES)
def test_rfc822_dates_read_as_parse_timestamp_reads_them(value: str) -> None:
    parsed = _published(value)
    assert parsed == parse_timestamp(value)
    assert parsed is None or parsed.tzinfo is parse_timestamp(value).tzinfo  # type: ignore[union-attr]


_FOLDING = st.text(st.sampled_from(["a", "A", " ", "\n", ".", "…", "’", "'", "ß", "ﬃ", "Σ"]))


@MANY
@given(_FOLDING, _FOLDING, st.booleans())
def test_restates_folds_only_what_it_needs(title: str, rest: str, upper: bool) -> None:
    text = title + rest
    text = text.upper() if upper else text
    opening = _folded(title.rstrip(".…").rstrip())
    assert _restates(title, text) == (len(opening) >= 10 and _folded(text).startswith(opening))
