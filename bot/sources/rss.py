"""RSS 0.9x/1.0/2.0, Atom and JSON Feed sources, with conditional GET.

`parse_feed` sniffs the body: JSON Feed goes to the json reader, XML to the lxml fast path and,
when that cannot read it, to feedparser. An HTML page or junk where a feed was expected is a
ParseError, never an empty feed: a Cloudflare challenge must not look like a quiet source.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from bot.config.settings import SourceConfig
from bot.errors import ParseError
from bot.model import Fetched, Post, SourceState
from bot.sources.feed_entry import build_posts
from bot.sources.feed_fallback import read_with_feedparser
from bot.sources.feed_json import read_json_feed
from bot.sources.feed_xml import read_xml_feed
from bot.sources.sniff import (
    body_start,
    describe_html,
    describe_junk,
    has_xml_signature,
    looks_like_html,
)

if TYPE_CHECKING:  # bot.net.client pulls in aiohttp; the adapters only need the type
    from bot.net.client import HttpClient

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)

_XML_DECLARATION = re.compile(rb"<\?xml\s")
_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:RDF|CHANNEL)[\s>]")


def parse_feed(source_id: str, body: bytes, *, base_url: str | None = None) -> list[Post]:
    """Posts of an RSS, Atom or JSON Feed document; `base_url` resolves relative links."""
    body = _without_leading_junk(body)
    start = body_start(body)
    if start[:1] in (b"{", b"["):
        entries = read_json_feed(body)
    elif start[:1] != b"<" and not has_xml_signature(body):
        raise ParseError(f"expected a feed, got {describe_junk(body)}")
    elif looks_like_html(body) and _FEED_ROOT.search(body, 0, 4096) is None:
        # An HTML doctype on a feed (some generators copy it from their page templates) does
        # not make it a page: the root element decides.
        raise ParseError(f"expected a feed, got {describe_html(body)}")
    else:
        xml_entries = read_xml_feed(body, base_url)
        entries = read_with_feedparser(body, base_url) if xml_entries is None else xml_entries
    return build_posts(source_id, entries, base_url=base_url)


def _without_leading_junk(body: bytes) -> bytes:
    """The body from its XML declaration on, when PHP warnings or the like were printed first.

    Self-hosted feeds often start with "<br /><b>Deprecated</b>: ..." before "<?xml".
    """
    found = _XML_DECLARATION.search(body, 0, 4096)
    if found is None or not body_start(body[: found.start()]):
        return body  # no declaration, or only whitespace and a BOM before it
    return body[found.start() :]


class RssAdapter:
    async def fetch(
        self, source: SourceConfig, state: SourceState, http: HttpClient, now: datetime
    ) -> Fetched:
        response = await http.get(
            source.url, etag=state.etag, last_modified=state.last_modified, accept=ACCEPT
        )
        if response.not_modified:
            # RFC 9110 15.4.5: a 304 repeats the validators; keep ours when it does not.
            kept = replace(
                state,
                etag=response.etag or state.etag,
                last_modified=response.last_modified or state.last_modified,
            )
            return Fetched(posts=[], state=kept, not_modified=True)
        # Parsing is CPU work (feedparser needs ~20 ms for 50 items): keep it off the event loop.
        posts = await asyncio.to_thread(parse_feed, source.id, response.body, base_url=response.url)
        next_state = replace(state, etag=response.etag, last_modified=response.last_modified)
        return Fetched(posts=posts, state=next_state)
