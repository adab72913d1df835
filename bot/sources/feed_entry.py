"""The raw fields every feed reader extracts, and the one place they become Posts.

The lxml fast path, the feedparser fallback and the JSON Feed reader only pull strings out of
their documents; `build_posts` turns those strings into Posts. Sharing this step is what keeps
the two XML paths in agreement: the same feed gives the same post ids, texts and dates whichever
parser read it, so a feed that flips between them never alerts twice.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from urllib.parse import urljoin

from bot.model import Post
from bot.sources.html import Reduced, reduce_html, tidy_text
from bot.sources.timestamps import parse_timestamp

log = logging.getLogger(__name__)

_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif")
# RSS 2.0 <author> is an e-mail address, conventionally "jane@example.com (Jane Doe)".
_EMAIL_WITH_NAME = re.compile(r"^\s*\S+@\S+\s+\((?P<name>[^()]+)\)\s*$")


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One feed entry as its document spells it: strings, not yet cleaned."""

    guid: str | None = None  # RSS guid / rdf:about, Atom id, JSON Feed id
    link: str | None = None
    title: str | None = None
    title_is_html: bool = True  # RSS titles carry entities and tags as often as not
    body: str | None = None  # content before description/summary
    body_is_html: bool = True
    author: str | None = None
    published: str | None = None  # raw timestamp: published, else updated
    lang: str | None = None
    image_url: str | None = None  # enclosure / media:content / media:thumbnail / JSON image
    base: str | None = None  # base URL for relative links in this entry (xml:base, feed URL)


def is_image(url: str | None, mime_type: str | None = None, medium: str | None = None) -> bool:
    """Whether an enclosure or media element is a picture; untyped ones judged by extension."""
    if not url:
        return False
    if mime_type or medium:
        return (mime_type or "").lower().startswith("image/") or medium == "image"
    return url.lower().split("?", 1)[0].endswith(_IMAGE_SUFFIXES)


def build_posts(source_id: str, entries: list[RawEntry], *, base_url: str | None) -> list[Post]:
    """Posts in document order; the first of two entries sharing an id wins."""
    posts: list[Post] = []
    seen: set[str] = set()
    for entry in entries:
        post = build_post(source_id, entry, base_url=base_url)
        if post is None:
            continue
        if post.post_id in seen:
            log.debug("source %s: duplicate entry id %r skipped", source_id, post.post_id)
            continue
        seen.add(post.post_id)
        posts.append(post)
    return posts


def build_post(source_id: str, entry: RawEntry, *, base_url: str | None) -> Post | None:
    """One Post, or None for an entry with nothing to show (no title, text or link)."""
    base = entry.base or base_url
    title = _title(entry)
    reduced = _body(entry, base)
    guid = (entry.guid or "").strip()
    # RSS 2.0: a guid that is a URL is the item's permalink when <link> is missing.
    permalink = guid if guid.startswith(("http://", "https://")) else None
    link = _absolute(entry.link, base) or permalink
    if not (title or reduced.text or link):
        return None
    post_id = guid or link or _content_hash(title, reduced.text)
    if title and _restates(title, reduced.text):
        title = None
    return Post(
        source_id=source_id,
        post_id=post_id,
        text=reduced.text,
        url=link,
        author=_author(entry.author),
        title=title,
        published_at=parse_timestamp(entry.published),
        lang=(entry.lang or "").strip() or None,
        image_url=_absolute(entry.image_url, base) or reduced.image_url,
    )


def _title(entry: RawEntry) -> str | None:
    if not entry.title:
        return None
    text = reduce_html(entry.title).text if entry.title_is_html else entry.title
    return " ".join(text.split()) or None  # a title is one line


def _restates(title: str, text: str) -> bool:
    """True when the title is the opening of the text, as social-media RSS bridges write it.

    X and Reddit bridges title an item with the first words of the post, often cut with "…";
    showing both would print the same sentence twice.
    """
    opening = _folded(title.rstrip(".…").rstrip())
    return len(opening) >= 10 and _folded(text).startswith(opening)


# Bridges often write the title with straight quotes and the text with typographic ones.
_QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "“": '"', "”": '"', "«": '"', "»": '"'})


def _folded(text: str) -> str:
    return " ".join(text.translate(_QUOTES).casefold().split())


def _body(entry: RawEntry, base: str | None) -> Reduced:
    if not entry.body:
        return Reduced("", None)
    if entry.body_is_html:
        return reduce_html(entry.body, base_url=base)
    return Reduced(tidy_text(entry.body), None)


def _author(raw: str | None) -> str | None:
    if not raw:
        return None
    match = _EMAIL_WITH_NAME.match(raw)
    name = match["name"] if match else raw
    return " ".join(name.split()) or None


def _absolute(url: str | None, base: str | None) -> str | None:
    url = (url or "").strip()
    if not url:
        return None
    return urljoin(base, url) if base else url


def _content_hash(title: str | None, text: str) -> str:
    # Some feeds give neither guid nor link; the content is then the only identity. Editing the
    # item makes it a new post, which is the lesser evil next to dropping it.
    digest = hashlib.sha256(f"{title or ''}\n{text}".encode()).hexdigest()
    return f"sha256:{digest[:32]}"
