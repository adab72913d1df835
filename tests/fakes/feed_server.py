"""A local feed server for polling tests: configurable routes on 127.0.0.1, in its own thread.

    with FeedServer() as feeds:                      # or the `feed_server` fixture
        feeds.route("/news.xml", RSS_V1)             # ETag and Last-Modified by default
        ... poll feeds.url("/news.xml") ...          # 200, then 304 to a conditional GET
        feeds.set_body("/news.xml", RSS_V2)          # a new post is published
        assert feeds.hits("/news.xml") == 2
        assert feeds.requests("/news.xml")[1]["if-none-match"] == '"…"'

Also: error statuses with Retry-After, a route that never answers, and an oversized body.
Unknown paths answer 404 (and are counted).
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest
from aiohttp import web

from fakes import ThreadedServer

RSS = "application/rss+xml; charset=utf-8"
# Synthetic Last-Modified dates: version n of a body is this plus n minutes, so two versions
# published within the same second still differ (HTTP dates have 1-second resolution).
_EPOCH = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class _Route:
    body: bytes = b""
    content_type: str = RSS
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: bool | str = True  # True: derived from the body
    last_modified: bool | str = True  # True: a new synthetic date per body version
    version: int = 0
    stall: bool = False
    oversized: int = 0  # stream this many bytes instead of the body
    declare_length: bool = False  # send Content-Length for the oversized body
    delay: float = 0.0  # seconds before answering: a slow server, a poll that stays in flight

    def etag_value(self) -> str | None:
        if self.etag is True:
            return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'
        return self.etag or None

    def last_modified_value(self) -> str | None:
        if self.last_modified is True:
            return format_datetime(_EPOCH + timedelta(minutes=self.version), usegmt=True)
        return self.last_modified or None


class FeedServer(ThreadedServer):
    def __init__(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        super().__init__(app)
        self._lock = threading.Lock()
        self._routes: dict[str, _Route] = {}
        self._requests: dict[str, list[dict[str, str]]] = defaultdict(list)

    def url(self, path: str = "/") -> str:
        return f"{self.origin()}{path}"

    # --- what tests program ------------------------------------------------------------

    def route(
        self,
        path: str,
        body: bytes | str = b"",
        *,
        content_type: str = RSS,
        status: int = 200,
        headers: dict[str, str] | None = None,
        etag: bool | str = True,
        last_modified: bool | str = True,
        retry_after: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Serve `body` at `path` (replacing any earlier route; counters are kept), after
        `delay` seconds.
        `etag`/`last_modified`: True derives them, a string fixes them, False omits them."""
        extra = dict(headers or {})
        if retry_after is not None:
            extra["Retry-After"] = retry_after
        with self._lock:
            version = self._routes[path].version + 1 if path in self._routes else 0
            self._routes[path] = _Route(
                _bytes(body), content_type, status, extra, etag, last_modified, version, delay=delay
            )

    def set_body(self, path: str, body: bytes | str) -> None:
        """Publish a new version of an existing route: new body, new ETag and Last-Modified."""
        with self._lock:
            old = self._routes[path]
            self._routes[path] = replace(old, body=_bytes(body), version=old.version + 1)

    def stall(self, path: str) -> None:
        """Accept requests to `path` and never answer (until the server stops)."""
        with self._lock:
            self._routes[path] = _Route(stall=True)

    def oversized(self, path: str, size: int, *, declare_length: bool = False) -> None:
        """Stream `size` bytes at `path`, with or without announcing it in Content-Length."""
        with self._lock:
            self._routes[path] = _Route(oversized=size, declare_length=declare_length)

    # --- what tests read ---------------------------------------------------------------

    def hits(self, path: str) -> int:
        with self._lock:
            return len(self._requests[path])

    def requests(self, path: str) -> list[dict[str, str]]:
        """Headers of each request to `path`, in order, names lowercased."""
        with self._lock:
            return [dict(headers) for headers in self._requests[path]]

    # --- the server --------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        with self._lock:
            self._requests[path].append({k.lower(): v for k, v in request.headers.items()})
            route = self._routes.get(path)
        if route is None:
            return web.Response(status=404, text="not found")
        if route.stall:
            await asyncio.sleep(3600)  # cancelled when the server stops
        if route.delay:
            await asyncio.sleep(route.delay)
        if route.oversized:
            return await _stream(request, route)
        headers = dict(route.headers)
        etag, last_modified = route.etag_value(), route.last_modified_value()
        if etag:
            headers["ETag"] = etag
        if last_modified:
            headers["Last-Modified"] = last_modified
        if route.status == 200 and _not_modified(request, etag, last_modified):
            return web.Response(status=304, headers=headers)
        headers["Content-Type"] = route.content_type
        return web.Response(status=route.status, body=route.body, headers=headers)


def _not_modified(request: web.Request, etag: str | None, last_modified: str | None) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when present; If-Modified-Since only otherwise."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        if etag is None:
            return False
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or etag.removeprefix("W/") in tags  # weak comparison (13.1.2)
    if_modified_since = request.headers.get("If-Modified-Since")
    if if_modified_since is None or last_modified is None:
        return False
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored (RFC 9110 13.1.3)


async def _stream(request: web.Request, route: _Route) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": route.content_type})
    if route.declare_length:
        response.content_length = route.oversized
    await response.prepare(request)
    chunk = b"<!-- padding -->" * 4096  # 64 KiB
    left = route.oversized
    try:
        while left > 0:
            await response.write(chunk[:left])
            left -= len(chunk)
        await response.write_eof()
    except ConnectionError:
        pass  # the client hung up at its byte cap, as it should
    return response


def _bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server
