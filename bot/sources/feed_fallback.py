"""The slow, forgiving path: feedparser for feeds lxml will not read.

Malformed XML, raw HTML entities, DTD-declared entities and other rarities. feedparser gets the
body as a stream, never a string: given a str it fetches URLs and given bytes it tries them as a
local file name first (feedparser's `_open_resource`), both past our HTTP client and its guards.
feedparser resolves links against xml:base and the Content-Location it is given, but it
resolves ids too (a guid that is a permalink, as RSS 2.0 guids are by default): "item-1" would
become a URL, and the post a new one whenever a feed moves between the paths. So it is given a
stand-in: the document's URL on a host of its own under .invalid (RFC 2606). Every result on
that host is put back on the real one, and an id on it is read back to the reference it was
written as. Relative links and nested xml:base then resolve exactly as on the fast path. An id
under an absolute xml:base is beyond repair: the one id the two paths may spell differently.
Sanitising and relative-URI rewriting are off: we reduce HTML to text ourselves.

feedparser folds some fields into others (dc:description and a second description become
`content`, itunes:summary may replace `summary`, media:title and media:description are not
kept; an item's dc:language is not read), so this path reads fewer of an item's fields than the
fast path does.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import feedparser

from bot.errors import ParseError
from bot.sources.feed_entry import Markup, RawEntry, is_image, read_each
from bot.sources.html import resolve_link

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_STAND_IN_HOST = "postwatch-document.invalid"


def read_with_feedparser(body: bytes, base_url: str | None = None) -> list[RawEntry]:
    """Entries of any feed feedparser recognises; ParseError when it recognises none.

    `base_url` is the document's URL, for relative links and xml:base."""
    stand_in = _stand_in(base_url)
    headers = None
    if stand_in is not None:
        # With headers but no Content-Type feedparser assumes RFC 3023's text/xml and reads the
        # body as ISO-8859-1; application/xml leaves the encoding to the document (RFC 7303 3.2).
        headers = {"content-location": stand_in.url, "content-type": "application/xml"}
    try:
        parsed = feedparser.parse(
            io.BytesIO(body),
            sanitize_html=False,
            resolve_relative_uris=False,
            response_headers=headers,
        )
    except Exception as exc:  # third-party code on untrusted bytes: its failure is the body's
        raise ParseError(f"expected a feed, got a body feedparser cannot read ({exc!r})") from exc
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
    entries = read_each(
        (e for e in parsed.get("entries", []) if isinstance(e, Mapping)),
        lambda e: _entry(e, is_rss, feed_author, feed_lang, stand_in),
        lambda e: _str(e.get("id")) or _str(e.get("link")),
    )
    return entries if stand_in is None else [stand_in.undone(entry) for entry in entries]


@dataclass(frozen=True, slots=True)
class _StandIn:
    url: str  # the document's URL on the stand-in host
    origin: str  # "https://postwatch-document.invalid"
    real_origin: str

    def undone(self, entry: RawEntry) -> RawEntry:
        return replace(
            entry,
            link=self._real(entry.link),
            image_url=self._real(entry.image_url),
            base=self._real(entry.base),
        )

    def _real(self, value: str | None) -> str | None:
        if value is None or not value.startswith(self.origin):
            return value
        return self.real_origin + value[len(self.origin) :]

    def reference(self, value: str | None, scope: str | None) -> str | None:
        """An id resolved against the stand-in, as it was written: relative to the base in
        scope (the entry's xml:base, else the document: "item-1"), else from the root."""
        if value is None or not value.startswith(self.origin):
            return value
        for base in (scope, self.url):
            if base and base.startswith(self.origin):
                directory = base.split("?", 1)[0].rsplit("/", 1)[0] + "/"
                if value.startswith(directory):
                    return value[len(directory) :]
        return value[len(self.origin) :]


def _stand_in(base_url: str | None) -> _StandIn | None:
    try:
        parts = urlsplit(base_url or "")
    except ValueError:
        return None
    if not (parts.scheme and parts.netloc):
        return None
    origin = f"{parts.scheme}://{_STAND_IN_HOST}"
    url = urlunsplit(parts._replace(netloc=_STAND_IN_HOST, fragment=""))
    return _StandIn(url, origin, f"{parts.scheme}://{parts.netloc}")


def _entry(
    entry: Mapping[str, Any],
    is_rss: bool,
    feed_author: str | None,
    feed_lang: str | None,
    stand_in: _StandIn | None,
) -> RawEntry:
    details = [c for c in entry.get("content", []) if _str(c.get("value"))]
    if _str((entry.get("summary_detail") or {}).get("value")):
        details.append(entry["summary_detail"])
    if not details and _str((entry.get("subtitle_detail") or {}).get("value")):
        details.append(entry["subtitle_detail"])  # itunes:subtitle, only without anything else
    title = entry.get("title_detail") or {}
    title_text = _str(title.get("value"))
    titles: tuple[Markup, ...] = ()
    if title_text:
        titles = (Markup(title_text, is_rss or _is_html(title)),)
    if itunes_title := _str(entry.get("itunes_title")):
        titles += (Markup(itunes_title, is_html=False),)
    first = details[0] if details else {}
    guid = _str(entry.get("id"))
    return RawEntry(
        guid=stand_in.reference(guid, _str(title.get("base"))) if stand_in else guid,
        link=_alternate_link(entry),
        titles=titles,
        bodies=tuple(Markup(d["value"], is_rss or _is_html(d)) for d in details),
        author=_str(entry.get("author")) or feed_author,
        published=_str(entry.get("published"))
        or _str(entry.get("created"))
        or _str(entry.get("updated")),
        lang=_str(first.get("language")) or _str(title.get("language")) or feed_lang,
        # feedparser leaves enclosure URLs as written: relative to the entry's base.
        image_url=resolve_link(_image(entry), _str(first.get("base"))),
        base=_str(first.get("base")),
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
    return value if isinstance(value, str) and value.strip() else None
