"""Bluesky accounts through the public AppView: app.bsky.feed.getAuthorFeed.

The first poll reads one page. Later polls follow the `cursor` for up to MAX_PAGES pages, until
they reach the newest feed item seen before (kept in the source's cursor as "newest_at", the
item's indexedAt, and "newest_uri").

Reposts: the post carries the original's text, author and URL, and its post id is the original's
record key; its time is when the watched account reposted it (the reason's indexedAt).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.config.addresses import BLUESKY_API_URL
from bot.config.settings import SourceConfig
from bot.errors import ParseError
from bot.model import Fetched, Post, SourceState
from bot.sources.html import tidy_text
from bot.sources.sniff import load_json
from bot.sources.timestamps import parse_timestamp

if TYPE_CHECKING:  # bot.net.client pulls in aiohttp; the adapters only need the type
    from bot.net.client import HttpClient

PAGE_LIMIT = 50
MAX_PAGES = 3  # 150 items per poll is far more than a watched account posts in an interval
_ACCEPT = "application/json"
_POST_COLLECTION = "app.bsky.feed.post"
_REPOST = "app.bsky.feed.defs#reasonRepost"


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
    for item in document["feed"]:
        if not isinstance(item, dict) or not isinstance(item.get("post"), dict):
            continue
        post = item["post"]
        reason = item.get("reason") if isinstance(item.get("reason"), dict) else None
        feed_time = parse_timestamp((reason or post).get("indexedAt"))
        if feed_time is not None:
            times.append(feed_time)
        if isinstance(post.get("uri"), str):
            uris.append(post["uri"])
        built = _post(source_id, post, reason)
        if built is not None:
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
    if len(parts) != 3 or parts[1] != _POST_COLLECTION or not parts[2]:
        return None
    return f"https://bsky.app/profile/{handle_or_did}/post/{parts[2]}"


def _post(source_id: str, post: Mapping[str, Any], reason: Mapping[str, Any] | None) -> Post | None:
    uri = post.get("uri")
    record = post.get("record")
    author = post.get("author")
    if not isinstance(uri, str) or not isinstance(record, dict) or not isinstance(author, dict):
        return None
    did = uri.removeprefix("at://").split("/", 1)[0]
    handle = _str(author.get("handle"))
    if handle == "handle.invalid":  # the AppView's marker for a handle that failed verification
        handle = None
    url = post_url(handle or did, uri)
    if url is None:
        return None
    if reason is not None and reason.get("$type") == _REPOST:
        published_at = parse_timestamp(reason.get("indexedAt"))
    else:
        published_at = parse_timestamp(record.get("createdAt")) or parse_timestamp(
            post.get("indexedAt")
        )
    langs = record.get("langs")
    return Post(
        source_id=source_id,
        post_id=uri.rsplit("/", 1)[1],  # the record key
        text=tidy_text(_str(record.get("text")) or ""),
        url=url,
        author=_author_name(author, handle),
        published_at=published_at,
        lang=_str(langs[0]) if isinstance(langs, list) and langs else None,
        image_url=_first_image(post.get("embed")),
    )


def _author_name(author: Mapping[str, Any], handle: str | None) -> str | None:
    display = " ".join((_str(author.get("displayName")) or "").split())
    if display and handle:
        return f"{display} (@{handle})"
    return display or (f"@{handle}" if handle else _str(author.get("did")))


def _first_image(embed: object) -> str | None:
    if not isinstance(embed, dict):
        return None
    kind = embed.get("$type")
    if kind == "app.bsky.embed.recordWithMedia#view":  # a quote post with its own pictures
        return _first_image(embed.get("media"))
    if kind != "app.bsky.embed.images#view" or not isinstance(embed.get("images"), list):
        return None
    for image in embed["images"]:
        if isinstance(image, dict):
            url = _str(image.get("fullsize")) or _str(image.get("thumb"))
            if url:
                return url
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


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
