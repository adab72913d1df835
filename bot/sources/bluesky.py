"""Bluesky accounts through the public AppView: app.bsky.feed.getAuthorFeed.

The first poll reads one page. Later polls follow the `cursor` for up to MAX_PAGES pages, until
they reach the newest feed item seen before (kept in the source's cursor as "newest_at", the
item's indexedAt, and "newest_uri").

A post's text, in blocks a blank line apart: the record's text with link facets expanded, the
alt texts of its pictures or video, then as context (lines marked "> ") the external link card,
the quoted record and the post it replies to. Context the text already holds is not repeated; a
quote of or reply to the author's own post is left out, as that post is one of this feed's:
repeating it would match a topic twice and fold the new post into the old one's story.
Reposts carry the original's text, author, URL and record key, and the time of the repost. An
item that cannot be read is skipped with a warning naming its AT URI.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.config.addresses import BLUESKY_API_URL
from bot.config.settings import SourceConfig
from bot.errors import ParseError
from bot.model import Fetched, Post, SourceState
from bot.sources.html import tidy_text
from bot.sources.post_text import as_dict, context_lines, http_url, join_blocks, text_or_none
from bot.sources.sniff import load_json
from bot.sources.timestamps import parse_timestamp

if TYPE_CHECKING:  # bot.net.client pulls in aiohttp; the adapters only need the type
    from bot.net.client import HttpClient

log = logging.getLogger(__name__)

PAGE_LIMIT = 50
MAX_PAGES = 3  # 150 items per poll is far more than a watched account posts in an interval
_ACCEPT = "application/json"
_POST_COLLECTION = "app.bsky.feed.post"
_REPOST = "app.bsky.feed.defs#reasonRepost"
_LINK = "app.bsky.richtext.facet#link"
# What handles, DIDs and record keys are made of (atproto.com/specs); others would break a URL.
_URL_PART = re.compile(r"^[A-Za-z0-9._:~%-]{1,2048}$")
# Characters lxml refuses (XML 1.0 §2.2 Char) or silently cuts text at (lone surrogates).


@dataclass(frozen=True, slots=True)
class AuthorFeedPage:
    posts: list[Post]
    cursor: str | None  # where the next (older) page starts; None at the end of the feed
    uris: tuple[str, ...]  # AT URIs of the page's items, newest first
    newest_at: datetime | None  # feed times (indexedAt of the post or of the repost)
    oldest_at: datetime | None


def parse_author_feed(source_id: str, body: bytes) -> AuthorFeedPage:
    """One page of a getAuthorFeed answer."""
    document = load_json(body, "a Bluesky author feed (JSON)")
    if not isinstance(document, dict) or not isinstance(document.get("feed"), list):
        raise ParseError("expected a Bluesky author feed, got JSON without a feed list")
    posts: list[Post] = []
    uris: list[str] = []
    times: list[datetime] = []
    for index, item in enumerate(document["feed"]):
        post, reason = as_dict(as_dict(item).get("post")), as_dict(as_dict(item).get("reason"))
        if (feed_time := parse_timestamp((reason or post).get("indexedAt"))) is not None:
            times.append(feed_time)
        if uri := text_or_none(post.get("uri")):
            uris.append(uri)
        if built := _contained(source_id, uri or f"at position {index}", as_dict(item)):
            posts.append(built)
    cursor = document.get("cursor")
    return AuthorFeedPage(
        posts=posts,
        cursor=cursor if isinstance(cursor, str) and cursor else None,
        uris=tuple(uris),
        newest_at=max(times, default=None),
        oldest_at=min(times, default=None),
    )


def post_url(handle_or_did: str, at_uri: str) -> str | None:
    """https://bsky.app/profile/HANDLE/post/RKEY for at://DID/app.bsky.feed.post/RKEY."""
    parts = at_uri.removeprefix("at://").split("/")
    if len(parts) != 3 or parts[1] != _POST_COLLECTION or not _URL_PART.match(parts[2]):
        return None
    if not _URL_PART.match(handle_or_did):
        return None
    return f"https://bsky.app/profile/{handle_or_did}/post/{parts[2]}"


def _contained(source_id: str, name: str, item: dict[str, Any]) -> Post | None:
    """One feed item as a Post, or None with a warning: a bad item costs itself, not the page."""
    try:
        post = _post(source_id, item)
    except Exception:  # our bug on one item must not cost the page (issue 9): logged, skipped
        log.warning("source %s: feed item %s unreadable; skipped", source_id, name, exc_info=True)
        return None
    if post is None:
        log.warning("source %s: feed item %s is not a readable post; skipped", source_id, name)
    return post


def _post(source_id: str, item: dict[str, Any]) -> Post | None:
    post, reason = as_dict(item.get("post")), as_dict(item.get("reason"))
    uri, record, author = (
        text_or_none(post.get("uri")),
        as_dict(post.get("record")),
        post.get("author"),
    )
    if uri is None or not record or not isinstance(author, dict):
        return None
    did = _did(uri)
    handle = text_or_none(author.get("handle"))
    # "handle.invalid" is the AppView's marker for a handle that failed verification.
    if handle == "handle.invalid" or not _URL_PART.match(handle or ""):
        handle = None
    url = post_url(handle or did, uri)
    if url is None:
        return None
    created = parse_timestamp(record.get("createdAt")) or parse_timestamp(post.get("indexedAt"))
    reposted = parse_timestamp(reason.get("indexedAt")) if reason.get("$type") == _REPOST else None
    embed = as_dict(post.get("embed")) or as_dict(
        record.get("embed")
    )  # the view, else the record's
    text = join_blocks(_record_text(record), _alt_texts(embed))
    text = join_blocks(text, context_lines(text, _card(embed)))
    for other in (_quoted(embed), as_dict(as_dict(item.get("reply")).get("parent"))):
        # A post quoting or answering its own author repeats one of this feed's own posts;
        # #notFoundPost and #blockedPost parents carry no record.
        shown = as_dict(other.get("value")) or as_dict(other.get("record")) or other
        if other and _did(text_or_none(other.get("uri")) or "") != did:
            text = join_blocks(text, context_lines(text, [_record_text(shown)]))
    langs = record.get("langs")
    return Post(
        source_id=source_id,
        post_id=uri.rsplit("/", 1)[1],  # the record key
        text=text,
        url=url,
        author=_author_name(author, handle),
        published_at=reposted or created,
        lang=text_or_none(langs[0]) if isinstance(langs, list) and langs else None,
        image_url=_first_image(embed),
    )


def _record_text(record: dict[str, Any]) -> str:
    """A post record's text, link facets expanded; a feed or list record's name and description."""
    raw = record.get("text")
    if not isinstance(raw, str):
        return join_blocks(
            *(text_or_none(record.get(k)) or "" for k in ("displayName", "name", "description"))
        )
    return tidy_text(text_or_none(_expand_links(raw, record.get("facets"))) or "")


def _expand_links(text: str, facets: object) -> str:
    """Each link facet's display text ("example.org/rep…") replaced by its full URL where it is
    that URL shortened (a link on other words keeps the words). Facet indices count BYTES of the
    UTF-8 text, end exclusive (lexicon app.bsky.richtext.facet#byteSlice); overlapping or
    out-of-range slices, and slices that cut a character, are ignored."""
    if not isinstance(facets, list) or not facets:
        return text
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no byte offset can be trusted
        return text
    # In text order; of two facets over the same bytes the first listed wins.
    spans = [span for facet in facets if (span := _link_span(data, facet))]
    pieces, at = [], 0
    for start, end, uri in sorted(spans, key=lambda span: span[0]):  # stable: list order
        if start >= at:
            pieces += [data[at:start].decode("utf-8"), uri]
            at = end
    return "".join([*pieces, data[at:].decode("utf-8")])


def _link_span(data: bytes, facet: object) -> tuple[int, int, str] | None:
    index = as_dict(as_dict(facet).get("index"))
    start, end = index.get("byteStart"), index.get("byteEnd")
    if type(start) is not int or type(end) is not int or not 0 <= start < end <= len(data):
        return None
    if not (_starts_char(data, start) and _starts_char(data, end)):
        return None
    features = as_dict(facet).get("features")
    links = (
        [as_dict(f).get("uri") for f in features if as_dict(f).get("$type") == _LINK]
        if isinstance(features, list)
        else []
    )
    uri = next((u for u in map(http_url, links) if u), None)
    if uri is None:
        return None
    shown = _bare(data[start:end].decode("utf-8")).rstrip("/.…")
    return (start, end, uri) if shown and _bare(uri).startswith(shown) else None


def _starts_char(data: bytes, at: int) -> bool:
    return at == len(data) or data[at] & 0xC0 != 0x80  # not a UTF-8 continuation byte


def _bare(url: str) -> str:
    url = url.strip().lower().removeprefix("https://").removeprefix("http://")
    return url.removeprefix("www.")


def _images(embed: dict[str, Any]) -> list[dict[str, Any]]:
    images = (as_dict(embed.get("media")) or embed).get("images")  # or a quote post's own media
    return [as_dict(image) for image in images] if isinstance(images, list) else []


def _alt_texts(embed: dict[str, Any]) -> str:
    """Alt texts of the pictures, or of the video (app.bsky.embed.video#view `alt`), each once."""
    alts = [i.get("alt") for i in _images(embed)] or [
        (as_dict(embed.get("media")) or embed).get("alt")
    ]
    return "\n".join(dict.fromkeys(" ".join(a.split()) for a in map(text_or_none, alts) if a))


def _card(embed: dict[str, Any]) -> list[str | None]:
    """An external link card (app.bsky.embed.external): title, description, link."""
    card = as_dict((as_dict(embed.get("media")) or embed).get("external"))
    return [
        text_or_none(card.get("title")),
        text_or_none(card.get("description")),
        http_url(card.get("uri")),
    ]


def _quoted(embed: dict[str, Any]) -> dict[str, Any]:
    """The record a quote post embeds as app.bsky.embed.record#viewRecord (with `value`), a
    feed or list it shows; {} for #viewNotFound, #viewBlocked and #viewDetached."""
    record = as_dict(embed.get("record"))
    if embed.get("$type") == "app.bsky.embed.recordWithMedia#view":
        record = as_dict(record.get("record"))
    if record.get("notFound") or record.get("blocked") or record.get("detached"):
        return {}
    return record if "value" in record or "creator" in record else {}


def _author_name(author: dict[str, Any], handle: str | None) -> str | None:
    display = " ".join((text_or_none(author.get("displayName")) or "").split())
    if display and handle:
        return f"{display} (@{handle})"
    return display or (f"@{handle}" if handle else text_or_none(author.get("did")))


def _first_image(embed: dict[str, Any]) -> str | None:
    # Views carry URLs; a record's own embed only blob references, which give none.
    urls = (http_url(i.get("fullsize")) or http_url(i.get("thumb")) for i in _images(embed))
    return next((url for url in urls if url), None)


def _did(at_uri: str) -> str:
    return at_uri.removeprefix("at://").split("/", 1)[0]


def _reached(page: AuthorFeedPage, newest_at: datetime | None, newest_uri: str | None) -> bool:
    if newest_uri and newest_uri in page.uris:
        return True
    return newest_at is not None and page.oldest_at is not None and page.oldest_at <= newest_at


class BlueskyAdapter:
    async def fetch(
        self, source: SourceConfig, state: SourceState, http: HttpClient, now: datetime
    ) -> Fetched:
        if not source.actor:
            raise ParseError(f"source {source.id}: a Bluesky source needs an actor (handle or DID)")
        url = f"{(source.url or BLUESKY_API_URL).rstrip('/')}/xrpc/app.bsky.feed.getAuthorFeed"
        known_at = parse_timestamp(state.cursor.get("newest_at"))
        known_uri = state.cursor.get("newest_uri")
        first_poll = known_at is None and not known_uri
        pages: list[AuthorFeedPage] = []
        page_cursor: str | None = None
        while len(pages) < MAX_PAGES:
            # Like Mastodon's exclude_replies: the author's posts and self-threads, not replies
            # to others (app.bsky.feed.getAuthorFeed `filter`).
            params = {
                "actor": source.actor,
                "limit": str(PAGE_LIMIT),
                "filter": "posts_and_author_threads",
            }
            if page_cursor:
                params["cursor"] = page_cursor
            response = await http.get(url, params=params, accept=_ACCEPT)
            page = parse_author_feed(source.id, response.body)
            pages.append(page)
            page_cursor = page.cursor
            if first_poll or page_cursor is None or _reached(page, known_at, known_uri):
                break
        return Fetched(posts=_merge(pages), state=replace(state, cursor=_next_cursor(state, pages)))


def _merge(pages: list[AuthorFeedPage]) -> list[Post]:
    posts: list[Post] = []
    seen: set[str] = set()
    for page in pages:
        for post in page.posts:
            if post.post_id not in seen:  # a cursor can repeat an item at a page boundary
                seen.add(post.post_id)
                posts.append(post)
    return posts


def _next_cursor(state: SourceState, pages: list[AuthorFeedPage]) -> dict[str, str]:
    cursor = dict(state.cursor)
    first = pages[0]
    known_at = parse_timestamp(cursor.get("newest_at"))
    if first.newest_at is not None and (known_at is None or first.newest_at > known_at):
        cursor["newest_at"] = first.newest_at.isoformat()
        if first.uris:
            cursor["newest_uri"] = first.uris[0]
    return cursor
