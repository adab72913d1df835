"""The pieces the social adapters (Mastodon, Bluesky, Telegram) build a post's text from: the
values they read, the links they trust, the context lines marked "> ", the blocks joined."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

# What lxml refuses in text (XML 1.0 section 2.2), and so the render's HTML would: a space each.
NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def text_or_none(value: object) -> str | None:
    """A non-blank string without the characters lxml refuses; None for anything else."""
    if not isinstance(value, str) or not value.strip():
        return None
    return NOT_XML_CHAR.sub(" ", value) if NOT_XML_CHAR.search(value) else value


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def http_url(value: object) -> str | None:
    """An http(s) URL that parses, else None: a post's link ends up in every alert's button."""
    url = text_or_none(value)
    if url is None or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:  # "http://[::1" and the like
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def context_lines(text: str, lines: list[str | None]) -> str:
    """Lines marked as context ("> "), leaving out empty ones and those the text already has."""
    seen, kept = " ".join(text.casefold().split()), []
    for line in lines:
        for part in (" ".join(p.split()) for p in (line or "").splitlines()):
            if part and part.casefold() not in seen:
                kept.append(f"> {part}")
                seen += "\n" + part.casefold()
    return "\n".join(kept)


def link_unless_in(text: str, url: object) -> str | None:
    """A usable link the text does not already show."""
    link = http_url(url)
    return link if link and link not in text else None


def join_blocks(*blocks: str) -> str:
    """Blocks a blank line apart, empty ones left out."""
    return "\n\n".join(block for block in blocks if block)
