"""The raw fields every feed reader extracts, and the one place they become Posts.

The lxml fast path, the feedparser fallback and the JSON Feed reader only pull strings out of
their documents; `build_posts` turns those strings into Posts. Sharing this step is what keeps
the two XML paths in agreement: the same feed gives the same post ids, texts and dates whichever
parser read it, so a feed that flips between them never alerts twice.

A post's text is made of every text field its entry carries (content, description, summary,
their Dublin Core, Media RSS and iTunes variants): each is reduced to plain text, the longest
comes first, and every other follows, a blank line apart, unless it adds nothing, which means
each of its lines is one word the first ones contain or a run of word pairs they contain (an
excerpt of the full text, cut with "…" or not). So a description that only teases the content
disappears into it, while a description saying something the content does not is kept: nothing
a topic could match is lost.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import re
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from bot.model import Post
from bot.sources.feed_markup import reduce_feed_html, title_line
from bot.sources.html import Reduced, resolve_link, tidy_line, tidy_text
from bot.sources.timestamps import parse_timestamp

log = logging.getLogger(__name__)

_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif")
# RSS 2.0 <author> is an e-mail address, conventionally "jane@example.com (Jane Doe)".
_EMAIL_WITH_NAME = re.compile(r"^\s*\S+@\S+\s+\((?P<name>[^()]+)\)\s*$")
_WORD = re.compile(r"\w+")
_Item = TypeVar("_Item")


@dataclass(frozen=True, slots=True)
class Markup:
    """One text field as its document spells it."""

    value: str
    is_html: bool = True  # RSS fields carry entities and tags as often as not


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One feed entry as its document spells it: strings, not yet cleaned."""

    guid: str | None = None  # RSS guid / rdf:about, Atom id, JSON Feed id
    link: str | None = None  # resolved against xml:base, not yet against the document URL
    titles: tuple[Markup, ...] = ()  # the first that has text is the title
    bodies: tuple[Markup, ...] = ()  # every text field the entry has (see the module doc)
    author: str | None = None
    published: str | None = None  # raw timestamp: published, else updated
    lang: str | None = None
    image_url: str | None = None  # enclosure / media:content / media:thumbnail / JSON image
    base: str | None = None  # xml:base of the entry's text, for relative links in its HTML
    problem: str | None = None  # set when reading the entry failed: it is skipped, and said so


def is_image(url: str | None, mime_type: str | None = None, medium: str | None = None) -> bool:
    """Whether an enclosure or media element is a picture; untyped ones judged by extension."""
    if not url:
        return False
    if mime_type or medium:
        return (mime_type or "").lower().startswith("image/") or medium == "image"
    return url.lower().split("?", 1)[0].endswith(_IMAGE_SUFFIXES)


def read_each(
    items: Iterable[_Item], read: Callable[[_Item], RawEntry], id_of: Callable[[_Item], str | None]
) -> list[RawEntry]:
    """`read` applied to every item; an item it fails on becomes a RawEntry naming the problem.

    Any exception counts: a reader bug on one odd item must cost that item, not the feed.
    """
    entries = []
    for item in items:
        try:
            entries.append(read(item))
        except Exception as exc:  # noqa: BLE001 - contained per item, logged by build_posts
            try:
                guid = id_of(item)
            except Exception:  # noqa: BLE001 - the id is only for the log line
                guid = None
            problem = "".join(traceback.format_exception(exc)).rstrip()
            entries.append(RawEntry(guid=guid, problem=problem))
    return entries


def build_posts(source_id: str, entries: list[RawEntry], *, base_url: str | None) -> list[Post]:
    """Posts in document order; the first of two entries sharing an id wins. An entry that
    cannot be read or built is skipped with a warning naming it."""
    posts: list[Post] = []
    seen: set[str] = set()
    for entry in entries:
        post = _contained(source_id, entry, base_url)
        if post is None:
            continue
        if post.post_id in seen:
            log.debug("source %s: duplicate entry id %r skipped", source_id, post.post_id)
            continue
        seen.add(post.post_id)
        posts.append(post)
    return posts


def _contained(source_id: str, entry: RawEntry, base_url: str | None) -> Post | None:
    name = entry.guid or entry.link or "without id"
    problem = entry.problem
    if problem is None:
        try:
            return build_post(source_id, entry, base_url=base_url)
        except Exception as exc:  # noqa: BLE001 - our bug on one entry must not sink the feed
            problem = "".join(traceback.format_exception(exc)).rstrip()
    log.warning("source %s: entry %r skipped, it could not be read:\n%s", source_id, name, problem)
    return None


def build_post(source_id: str, entry: RawEntry, *, base_url: str | None) -> Post | None:
    """One Post, or None for an entry with nothing to show (no title, text or link)."""
    # Readers resolve links against xml:base (RFC 3986 5.1.1); what is still relative after
    # that is relative to the document's own URL (5.1.3).
    base = resolve_link(entry.base, base_url) if entry.base else base_url
    title, other_titles = _titles(entry)
    text, image_url = _text(entry.bodies, other_titles, base)
    guid = (entry.guid or "").strip()
    # RSS 2.0: a guid that is a URL is the item's permalink when <link> is missing.
    permalink = guid if guid.startswith(("http://", "https://")) else None
    link = resolve_link(entry.link, base_url) or resolve_link(permalink, None)
    if not (title or text or link):
        return None
    post_id = guid or link or _content_hash(title, text)
    if title and _restates(title, text):
        title = None
    return Post(
        source_id=source_id,
        post_id=post_id,
        text=text,
        url=link,
        author=_author(entry.author),
        title=title,
        published_at=_published(entry.published),
        lang=(entry.lang or "").strip() or None,
        image_url=resolve_link(entry.image_url, base_url) or image_url,
    )


def _titles(entry: RawEntry) -> tuple[str | None, list[str]]:
    """The title (one line), and any other title field that says something else."""
    found: list[str] = []
    for markup in entry.titles:
        text = title_line(markup.value) if markup.is_html else tidy_line(markup.value)
        if text and all(_folded(text) != _folded(seen) for seen in found):
            found.append(text)
    return (found[0], found[1:]) if found else (None, [])


def _text(bodies: tuple[Markup, ...], extra: list[str], base: str | None) -> tuple[str, str | None]:
    """The post's text from all its fields (the module doc says how), and its first image."""
    if len(bodies) == 1 and not extra:  # the common item: one text, nothing to merge
        only = _reduced(bodies[0], base)
        return only.text, only.image_url or None
    reduced = [_reduced(markup, base) for markup in bodies]
    images = [r.image_url for r in reduced if r.image_url]
    texts = {r.text for r in reduced if r.text} | set(extra)
    # Longest first; equal lengths in a fixed order, so both XML paths give the same text.
    ordered = sorted(texts, key=lambda text: (-len(text), text))
    first_image = images[0] if images else None
    if len(ordered) <= 1:
        return (ordered[0] if ordered else ""), first_image
    kept: list[str] = []
    last: list[str] = []  # the last word kept: pairs run across the parts, as topics match
    words: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for text in ordered:
        lines = [_WORD.findall(line.casefold()) for line in text.split("\n")]
        if kept and all(_adds_nothing(line, words, pairs) for line in lines):
            continue
        kept.append(text)
        added = [word for line in lines for word in line]
        pairs.update(itertools.pairwise([*last, *added]))
        words.update(added)
        last = added[-1:] or last
    return "\n\n".join(kept), first_image


def _adds_nothing(line: list[str], words: set[str], pairs: set[tuple[str, str]]) -> bool:
    """A candidate line adds nothing when its word pairs (or its one word) are all there.

    Lines are checked one by one: an excerpt often ends in "…" with a "Read more" line after
    it, and the pair across that break is in no full text.
    """
    if len(line) <= 1:
        return all(word in words for word in line)
    return all(pair in pairs for pair in itertools.pairwise(line))


def _reduced(markup: Markup, base: str | None) -> Reduced:
    if markup.is_html:
        return reduce_feed_html(markup.value, base)
    return Reduced(tidy_text(markup.value), None)


def _restates(title: str, text: str) -> bool:
    """True when the title is the opening of the text, as social-media RSS bridges write it.

    X and Reddit bridges title an item with the first words of the post, often cut with "…";
    showing both would print the same sentence twice.
    """
    bare = title.rstrip(".…").rstrip()
    # Folding maps each character on its own and never shortens a word, so the folded start of
    # a string is the start of the folded string: fold only as much as the check needs, first
    # a few words (most titles differ from their text there), then the whole title.
    if len(bare) > 16 and not _starts_alike(text, _folded(bare[:16])):
        return False
    opening = _folded(bare)
    return len(opening) >= 10 and _starts_alike(text, opening)


def _starts_alike(text: str, folded_opening: str) -> bool:
    cut = 2 * len(folded_opening) + 16
    head = _folded(text[:cut])
    if len(head) < len(folded_opening) and cut < len(text):
        head = _folded(text)
    return head.startswith(folded_opening)


# Bridges often write the title with straight quotes and the text with typographic ones.
_QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "“": '"', "”": '"', "«": '"', "»": '"'})


_QUOTE_CHARS = re.compile("[’‘ʼ“”«»]")


def _folded(text: str) -> str:
    # translate costs a dictionary lookup per character: only for text that has a quote.
    if _QUOTE_CHARS.search(text) is not None:
        text = text.translate(_QUOTES)
    return " ".join(text.casefold().split())


# RSS 2.0's own spelling of RFC 822 dates, read without email.utils, which cost a tenth of an
# item (issue 12); any other spelling goes to parse_timestamp, whose results these match.
_RFC822 = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?([0-9]{1,2}) ([A-Z][a-z]{2}) ([1-9][0-9]{3}) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) (?:([+-])([0-9]{2})([0-9]{2})|GMT|UTC?|Z)"
)
_MONTHS = {
    name: n for n, name in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)
}


@functools.lru_cache(maxsize=4096)  # a feed repeats its dates poll after poll
def _published(raw: str | None) -> datetime | None:
    found = _RFC822.fullmatch(raw.strip()) if raw else None
    if found is None or found[2] not in _MONTHS:
        return parse_timestamp(raw)
    day, month, year, hour, minute, second, sign, hours, minutes = found.groups()
    try:
        stamp = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second))
        offset = timedelta(hours=int(hours), minutes=int(minutes)) if sign else timedelta()
        if offset >= timedelta(days=1):
            return None  # not a UTC offset (datetime.timezone refuses it)
        return stamp.replace(tzinfo=UTC) + (offset if sign == "-" else -offset)
    except (ValueError, OverflowError):
        return None


def _author(raw: str | None) -> str | None:
    if not raw:
        return None
    match = _EMAIL_WITH_NAME.match(raw)
    name = match["name"] if match else raw
    return (" ".join(name.split()) if name.isascii() else tidy_line(name)) or None


def _content_hash(title: str | None, text: str) -> str:
    # Some feeds give neither guid nor link; the content is then the only identity. Editing the
    # item makes it a new post, which is the lesser evil next to dropping it.
    digest = hashlib.sha256(f"{title or ''}\n{text}".encode(errors="surrogatepass")).hexdigest()
    return f"sha256:{digest[:32]}"
