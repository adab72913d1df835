"""A local farm of synthetic feeds for benchmarks, served from a separate process.

`/feed/N` answers an RSS document of `items` entries; a request carrying the feed's current ETag
gets 304, as a well-behaved server does for an unchanged feed.
"""

from __future__ import annotations

import multiprocessing
import random
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

WORDS = [
    "ceasefire",
    "ukraine",
    "russia",
    "energy",
    "infrastructure",
    "talks",
    "minister",
    "president",
    "market",
    "storm",
    "election",
    "sanctions",
    "parliament",
    "drone",
    "strike",
    "grid",
    "summit",
    "kyiv",
    "moscow",
    "washington",
    "peace",
    "перемирие",
    "україна",
    "енергетика",
    "переговори",
    "удари",
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "on",
    "with",
    "after",
    "says",
]


def synthetic_text(rng: random.Random, words: int = 30) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def rss_document(feed: int, items: int, seed: int = 0) -> bytes:
    """An RSS 2.0 feed with entity-rich text, as real feeds have."""
    rng = random.Random(seed * 100_003 + feed)
    base = datetime(2026, 3, 18, 12, tzinfo=UTC)
    entries = []
    for i in range(items):
        title = escape(synthetic_text(rng, 10)) + " &amp; more"
        body = escape(f"<p>{synthetic_text(rng)}&nbsp;&mdash; {synthetic_text(rng, 12)}</p>")
        entries.append(
            f"<item><title>{title}</title><link>https://news.example.org/{feed}/{i}</link>"
            f"<description>{body}</description><guid>feed{feed}-item{i}</guid>"
            f"<pubDate>{format_datetime(base - timedelta(minutes=i))}</pubDate>"
            "<dc:creator>Desk &#8212; Wire</dc:creator></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>Feed {feed}</title><link>https://news.example.org/{feed}</link>"
        f"<description>Synthetic</description>{''.join(entries)}</channel></rss>"
    ).encode()


def _serve(port_pipe: multiprocessing.connection.Connection, feeds: int, items: int) -> None:
    import asyncio

    from aiohttp import web

    bodies = {n: rss_document(n, items) for n in range(feeds)}

    async def feed(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        etag = f'"feed-{n}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=bodies[n], content_type="application/rss+xml", headers={"ETag": etag}
        )

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{n}", feed)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        site = web.SockSite(runner, sock, backlog=1024)
        await site.start()
        port_pipe.send(sock.getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(main())


class FeedFarm:
    """Context manager: start the farm in a child process, expose `url(n)`."""

    def __init__(self, feeds: int = 1000, items: int = 20) -> None:
        self.feeds, self.items = feeds, items
        self.port = 0
        self._process: multiprocessing.Process | None = None

    def __enter__(self) -> FeedFarm:
        parent, child = multiprocessing.Pipe()
        self._process = multiprocessing.Process(
            target=_serve, args=(child, self.feeds, self.items), daemon=True
        )
        self._process.start()
        self.port = parent.recv()
        return self

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.port}/feed/{n}"

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join()
