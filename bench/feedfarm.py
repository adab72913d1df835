"""A local farm of synthetic feeds for benchmarks, served from a separate process.

`/feed/N` answers an RSS document of `items` entries; a request carrying the feed's current ETag
gets 304, as a well-behaved server does for an unchanged feed (RFC 9110 13.1.2). Every body and
ETag is built once when the farm starts, so answering costs aiohttp's own work and nothing
else: one aiohttp process answers ~12,000 conditional GETs a second on this machine, several
times what the poll loop asks of it (shared/MEASURED.md: Python's http.server manages ~40).

`stats()` counts the requests answered since the last `stats(reset=True)`, by status, with the
times of the first and the last (this machine's clock), so a bench can check that one run made
exactly one request per source and time its polling from outside, without its start-up.
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.connection
import random
import socket
import time
import urllib.request
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


def feed_etag(feed: int) -> str:
    return f'"feed-{feed}"'


def _serve(
    port_pipe: multiprocessing.connection.Connection,
    feeds: int,
    items: int,
    seed: int,
    first: int,
) -> None:
    import asyncio

    from aiohttp import web

    etags = [feed_etag(n) for n in range(feeds)]
    bodies = [rss_document(first + n, items, seed) for n in range(feeds)]
    counts: dict[str, float] = {}

    def reset() -> None:
        counts.update({"requests": 0, "200": 0, "304": 0, "404": 0, "first": 0.0, "last": 0.0})

    reset()

    async def feed(request: web.Request) -> web.Response:
        counts["last"] = time.time()
        if not counts["requests"]:
            counts["first"] = counts["last"]
        counts["requests"] += 1
        n = int(request.match_info["n"])
        if not 0 <= n < feeds:
            counts["404"] += 1
            return web.Response(status=404)
        etag = etags[n]
        if request.headers.get("If-None-Match") == etag:
            counts["304"] += 1
            return web.Response(status=304, headers={"ETag": etag})
        counts["200"] += 1
        return web.Response(
            body=bodies[n], content_type="application/rss+xml", headers={"ETag": etag}
        )

    async def stats(request: web.Request) -> web.Response:
        answer = web.json_response(counts)
        if request.query.get("reset"):
            reset()
        return answer

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{n}", feed)
        app.router.add_get("/stats", stats)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        # A deep backlog: a client opening hundreds of connections at once must not see resets.
        site = web.SockSite(runner, sock, backlog=4096)
        await site.start()
        port_pipe.send(sock.getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(main())


class FeedFarm:
    """Context manager: start the farm in a child process, expose `url(n)` and `stats()`."""

    def __init__(self, feeds: int = 1000, items: int = 20, seed: int = 0, first: int = 0) -> None:
        """`/feed/N` serves feed number `first + N` (texts, links and ids differ by number)."""
        self.feeds, self.items, self.seed, self.first = feeds, items, seed, first
        self.port = 0
        self._process: multiprocessing.Process | None = None

    def __enter__(self) -> FeedFarm:
        parent, child = multiprocessing.Pipe()
        self._process = multiprocessing.Process(
            target=_serve,
            args=(child, self.feeds, self.items, self.seed, self.first),
            daemon=True,
        )
        self._process.start()
        self.port = parent.recv()
        return self

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.port}/feed/{n}"

    def stats(self, *, reset: bool = False) -> dict[str, float]:
        """Requests answered since the last reset: {"requests", "200", "304", "404"} and the
        epoch times of the "first" and "last" of them; `reset` starts counting anew after."""
        url = f"http://127.0.0.1:{self.port}/stats" + ("?reset=1" if reset else "")
        with urllib.request.urlopen(url, timeout=30) as answer:
            counts: dict[str, float] = json.load(answer)
        return counts

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join()
