"""Fuzzing the feed parsers: nothing but our own errors escapes `parse_feed`, on any input.

Inputs: our golden feeds mutated at the byte level (flips, cuts, splices, inserted markup),
at the element level (elements dropped or duplicated, attributes such as type, mode and
xml:base changed, the declared encoding swapped or the document re-encoded), fully random
bytes, and random JSON. Whatever parse_feed returns also goes through story fingerprinting,
as every stored post does. And inside one feed, one entry our code fails on costs that entry,
with a warning naming it, never the batch.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot.sources.feed_entry
import bot.sources.feed_xml
from bot.errors import PostwatchError
from bot.sources.rss import parse_feed
from bot.stories.keys import fingerprint

DATA = Path(__file__).parent / "data"
GOLDEN = sorted((DATA / "feeds").glob("*")) + sorted((DATA / "sources").glob("*.xml"))
GOLDEN += [DATA / "sources" / "jsonfeed.json", DATA / "sources" / "reddit.atom"]
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
URLS = st.sampled_from([None, "https://feeds.example.org/a/feed.xml", "http://[::1", "x:y"])


def check(body: bytes, base_url: str | None) -> None:
    """Only PostwatchError subclasses may leave parse_feed; every post fingerprints."""
    try:
        posts = parse_feed("fuzz", body, base_url=base_url)
    except PostwatchError:
        return
    for post in posts:
        assert isinstance(post.text, str)
        fingerprint(post)


# Markup and text that have broken feed parsers: entities, CDATA ends, encodings, odd URLs.
SPLICES = st.sampled_from(
    [
        b"&nbsp;",
        b"&#0;",
        b"&#x110000;",
        b"&undefined;",
        b"]]>",
        b"<![CDATA[",
        b"<!DOCTYPE x [<!ENTITY e 'v'>]>",
        b"<script>",
        b"<iframe src=x>",
        b"\x00",
        b"\x93\x94\x85",
        b"\xff\xfe",
        b'xml:base="http://[::1"',
        b'type="application/octet-stream"',
        b'mode="base64"',
        b"<link>http://[::1</link>",
        b'<link href="http://x:99999/"/>',
        b"<guid>http://example.c[o.test/</guid>",
        b"\xed\xa0\x80",  # an encoded lone surrogate
        b"<content:encoded>",
        b"<item><title>t</title></item>",
    ]
)


@st.composite
def mutated_bytes(draw: st.DrawFn) -> bytes:
    body = bytearray(draw(st.sampled_from(GOLDEN)).read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(body)))
        action = draw(st.sampled_from(["flip", "cut", "splice", "drop", "truncate"]))
        if action == "flip" and at < len(body):
            body[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del body[at : at + draw(st.integers(1, 40))]
        elif action == "splice":
            body[at:at] = draw(SPLICES)
        elif action == "drop":  # delete up to the next tag boundary
            end = body.find(b">", at)
            del body[at : end + 1 if end >= 0 else at]
        else:
            del body[at:]
    return bytes(body)


_ELEMENT = re.compile(rb"<([A-Za-z][\w:.-]*)[^>]*>.*?</\1>", re.DOTALL)
_DECLARED = re.compile(rb'encoding="[^"]*"|encoding=\'[^\']*\'')


@st.composite
def mutated_structure(draw: st.DrawFn) -> bytes:
    body = draw(st.sampled_from(GOLDEN)).read_bytes()
    elements = list(_ELEMENT.finditer(body))
    if elements:
        found = draw(st.sampled_from(elements))
        action = draw(st.sampled_from(["drop", "double", "nest", "attr"]))
        chunk = found.group()
        if action == "drop":
            chunk = b""
        elif action == "double":
            chunk += chunk
        elif action == "nest":
            chunk = chunk.replace(b">", b">" + chunk, 1)
        else:
            attribute = draw(SPLICES.filter(lambda s: s.endswith(b'"')))
            chunk = chunk.replace(b">", b" " + attribute + b">", 1)
        body = body[: found.start()] + chunk + body[found.end() :]
    label = draw(st.sampled_from([b"utf-8", b"iso-8859-1", b"us-ascii", b"utf-16", b"koi8-r"]))
    body = _DECLARED.sub(b'encoding="' + label + b'"', body, count=1)
    if draw(st.booleans()):
        codec = draw(st.sampled_from(["utf-16", "utf-16-be", "utf-32", "cp1252", "cp500"]))
        body = body.decode("utf-8", "replace").encode(codec, "replace")
    return body


@FUZZ
@given(mutated_bytes(), URLS)
def test_mutated_golden_feeds(body: bytes, base_url: str | None) -> None:
    check(body, base_url)


@FUZZ
@given(mutated_structure(), URLS)
def test_mutated_elements_attributes_and_encodings(body: bytes, base_url: str | None) -> None:
    check(body, base_url)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400), URLS)
def test_random_bytes(body: bytes, base_url: str | None) -> None:
    check(body, base_url)
    check(b"<rss version='2.0'><channel><item><description>" + body, base_url)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["id", "url", "title", "content_html", "content_text", "summary"])
            | st.sampled_from(["items", "authors", "author", "name", "date_published", "image"])
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(_JSON, st.lists(_JSON, max_size=4), URLS)
def test_random_json_feeds(document: object, items: list[object], base_url: str | None) -> None:
    check(json.dumps(document).encode(), base_url)
    feed = {"version": "https://jsonfeed.org/version/1.1", "items": items}
    check(json.dumps(feed).encode(), base_url)
    # Lone surrogates and NUL, which JSON can spell and Python then holds.
    odd = [{"id": "\ud800", "title": "a\x00b", "content_html": "<p>\udfff x</p>", "url": "\ud83d"}]
    check(json.dumps({**feed, "items": items + odd}).encode(), base_url)


# --- one bad entry costs that entry only ----------------------------------------------------

THREE_ITEMS = b"""<rss version="2.0"><channel><title>t</title>
<item><guid>first</guid><title>First</title><pubDate>Tue, 05 Mar 2024 10:00:00 GMT</pubDate></item>
<item><guid>second</guid><title>Second story</title><pubDate>boom</pubDate></item>
<item><guid>third</guid><title>Third story</title></item>
</channel></rss>"""


def test_an_entry_that_fails_to_build_is_skipped_with_its_id(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = bot.sources.feed_entry.parse_timestamp

    def failing(value: object) -> object:
        if value == "boom":
            raise RuntimeError("a bug in date parsing")
        return real(value)

    monkeypatch.setattr(bot.sources.feed_entry, "parse_timestamp", failing)
    with caplog.at_level(logging.WARNING, logger="bot.sources.feed_entry"):
        posts = parse_feed("news", THREE_ITEMS)
    assert [p.post_id for p in posts] == ["first", "third"]
    (record,) = caplog.records
    assert "source news: entry 'second' skipped" in record.getMessage()
    assert "a bug in date parsing" in record.getMessage()  # with its traceback


def test_an_entry_the_reader_fails_on_is_skipped_with_its_id(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = bot.sources.feed_xml._rss_item

    def failing(item: Any, ns: str, lang: str | None) -> object:
        if "Second" in str(bot.sources.feed_xml.etree.tostring(item)):
            raise KeyError("a bug in the reader")
        return real(item, ns, lang)

    monkeypatch.setattr(bot.sources.feed_xml, "_rss_item", failing)
    with caplog.at_level(logging.WARNING, logger="bot.sources.feed_entry"):
        posts = parse_feed("news", THREE_ITEMS)
    assert [p.post_id for p in posts] == ["first", "third"]
    (record,) = caplog.records
    assert "entry 'second' skipped" in record.getMessage()
    assert "a bug in the reader" in record.getMessage()
