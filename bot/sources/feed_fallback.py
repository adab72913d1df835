"""The slow, forgiving path: feedparser for feeds lxml will not read.

Malformed XML, raw HTML entities, DTD-declared entities, Atom 0.3 and other rarities. feedparser
gets the body as a stream, never a string: given a str it fetches URLs and given bytes it tries
them as a local file name first (feedparser's `_open_resource`), both past our HTTP client and
its guards. Sanitising and relative-URI resolution are off: we reduce HTML to text ourselves and
resolve links the way the fast path does, so both paths give the same posts.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import feedparser

from bot.errors import ParseError
from bot.sources.feed_entry import RawEntry, is_image

_HTML_TYPES = ("text/html", "application/xhtml+xml")


def read_with_feedparser(body: bytes) -> list[RawEntry]:
    """Entries of any feed feedparser recognises; ParseError when it recognises none."""
    parsed = feedparser.parse(io.BytesIO(body), sanitize_html=False, resolve_relative_uris=False)
    version: str = parsed.get("version") or ""
    if not version:
        problem = parsed.get("bozo_exception")
        detail = f" ({problem})" if problem else ""
        raise ParseError(f"expected a feed, got a document that is not RSS or Atom{detail}")
    is_rss = version.startswith("rss")
    feed: Mapping[str, Any] = parsed.get("feed", {})
    # RFC 4287 4.2.1: Atom entries inherit the feed's author; RSS has no such rule.
    feed_author = None if is_rss else _str(feed.get("author"))
    feed_lang = _str(feed.get("language"))
    return [_entry(e, is_rss, feed_author, feed_lang) for e in parsed.get("entries", [])]


def _entry(
    entry: Mapping[str, Any], is_rss: bool, feed_author: str | None, feed_lang: str | None
) -> RawEntry:
    body = next((c for c in entry.get("content", []) if c.get("value")), None)
    if body is None:
        body = entry.get("summary_detail") or {}
    title = entry.get("title_detail") or {}
    return RawEntry(
        guid=_str(entry.get("id")),
        link=_alternate_link(entry),
        title=_str(title.get("value")),
        title_is_html=is_rss or _is_html(title),
        body=_str(body.get("value")),
        body_is_html=is_rss or _is_html(body),
        author=_str(entry.get("author")) or feed_author,
        published=_str(entry.get("published")) or _str(entry.get("updated")),
        lang=_str(body.get("language")) or _str(title.get("language")) or feed_lang,
        image_url=_image(entry),
        base=_str(body.get("base")),
    )


def _alternate_link(entry: Mapping[str, Any]) -> str | None:
    # `entry.link` falls back to an Atom id such as "tag:..."; the links list does not.
    for link in entry.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return _str(link["href"])
    return None


def _image(entry: Mapping[str, Any]) -> str | None:
    for enclosure in entry.get("enclosures", []):
        if is_image(enclosure.get("href"), enclosure.get("type")):
            return _str(enclosure["href"])
    for content in entry.get("media_content", []):
        if is_image(content.get("url"), content.get("type"), content.get("medium")):
            return _str(content["url"])
    for thumbnail in entry.get("media_thumbnail", []):
        if thumbnail.get("url"):
            return _str(thumbnail["url"])
    return None


def _is_html(detail: Mapping[str, Any]) -> bool:
    return _str(detail.get("type")) in _HTML_TYPES


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
