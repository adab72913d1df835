"""JSON Feed 1.0 and 1.1 (https://www.jsonfeed.org/version/1.1/) read with the json module.

Every field is checked for its type: a feed is untrusted input, and an item that is not an
object, or a title that is a number, costs that field or item only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.errors import ParseError
from bot.sources.feed_entry import Markup, RawEntry, is_image, read_each
from bot.sources.sniff import load_json

_VERSION_PREFIX = "https://jsonfeed.org/version/"


def read_json_feed(body: bytes) -> list[RawEntry]:
    document = load_json(body, "a JSON Feed")
    if not isinstance(document, dict):
        raise ParseError("expected a JSON Feed, got JSON that is not an object")
    version = document.get("version")
    if not isinstance(version, str) or not version.startswith(_VERSION_PREFIX):
        raise ParseError("expected a feed, got JSON that is not a JSON Feed (no version field)")
    items = document.get("items")
    if not isinstance(items, list):
        raise ParseError("JSON Feed has no items list")
    feed_author = _author(document)
    feed_lang = _str(document.get("language"))
    return read_each(
        (item for item in items if isinstance(item, dict)),
        lambda item: _entry(item, feed_author, feed_lang),
        lambda item: _id(item.get("id")),
    )


def _entry(item: Mapping[str, Any], feed_author: str | None, feed_lang: str | None) -> RawEntry:
    # 1.1: content_html is HTML, content_text and summary are plain text; a feed may give all
    # three, and build_posts keeps what each adds.
    fields = (("content_html", True), ("content_text", False), ("summary", False))
    bodies = tuple(
        Markup(value, is_html=is_html)
        for name, is_html in fields
        if (value := _str(item.get(name))) is not None
    )
    title = _str(item.get("title"))
    return RawEntry(
        guid=_id(item.get("id")),
        link=_str(item.get("url")) or _str(item.get("external_url")),
        titles=(Markup(title, is_html=False),) if title else (),  # titles are plain text
        bodies=bodies,
        # 1.1: items without authors have the feed's.
        author=_author(item) or feed_author,
        published=_str(item.get("date_published")) or _str(item.get("date_modified")),
        lang=_str(item.get("language")) or feed_lang,
        image_url=_image(item),
    )


def _id(value: object) -> str | None:
    # 1.1 says string; 1.0 feeds in the wild also use numbers.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _str(value)


def _author(obj: Mapping[str, Any]) -> str | None:
    authors = obj.get("authors")  # 1.1
    if isinstance(authors, list):
        for author in authors:
            if isinstance(author, dict) and _str(author.get("name")):
                return _str(author.get("name"))
    author = obj.get("author")  # 1.0
    return _str(author.get("name")) if isinstance(author, dict) else None


def _image(item: Mapping[str, Any]) -> str | None:
    image = _str(item.get("image")) or _str(item.get("banner_image"))
    if image:
        return image
    attachments = item.get("attachments")
    if isinstance(attachments, list):
        for attachment in attachments:
            if not isinstance(attachment, dict):
                continue
            url = _str(attachment.get("url"))
            if is_image(url, _str(attachment.get("mime_type"))):
                return url
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
