"""Parse, classify and store throughput on a synthetic batch, beside naive baselines.

Baselines, measured in the same run: feedparser for parsing (and, as a second row, a plain lxml
loop pulling five fields out of the same documents: the floor under any lxml-based parser), a
Python loop of `in` checks per topic for classification, one transaction per post for storage.
"""

from __future__ import annotations

import functools
import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import feedparser
from lxml import etree

from bench.feedfarm import WORDS, rss_document
from bot.classify.watchlist import Watchlist
from bot.model import AlertIntent, Post, SourceState, TopicConfig, TopicMatch
from bot.sources.rss import parse_feed
from bot.store.database import Store

DOCUMENTS = 200  # x 50 items = 10,000 posts
ITEMS = 50


def _rate(count: int, work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return count / (time.perf_counter() - started)


def _plain_lxml(documents: list[bytes]) -> list[tuple[str | None, ...]]:
    """The floor a real parser builds on: lxml with our parser options, five fields an item
    pulled out as they are (no HTML to text, no dates, no ids, no Post)."""
    rows = []
    for document in documents:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        for item in etree.fromstring(document, parser).iter("item"):
            rows.append(
                (
                    item.findtext("title"),
                    item.findtext("link"),
                    item.findtext("guid"),
                    item.findtext("description"),
                    item.findtext("pubDate"),
                )
            )
    return rows


def synthetic_topics(count: int, seed: int = 7) -> list[tuple[list[str], list[str]]]:
    """Topics as (any-of, any-of) word groups: '(a OR b) AND (c OR d)'."""
    rng = random.Random(seed)
    vocabulary = WORDS + [f"term{i}" for i in range(count * 2)]
    return [(rng.sample(vocabulary, 2), rng.sample(vocabulary, 2)) for _ in range(count)]


def _query(groups: tuple[list[str], list[str]]) -> str:
    return " AND ".join("(" + " OR ".join(group) + ")" for group in groups)


def _classify(watchlist: Watchlist, posts: list[Post]) -> None:
    for post in posts:
        watchlist.match(post, "rss")


def _naive_classify(posts: list[Post], topics: list[tuple[list[str], list[str]]]) -> int:
    hits = 0
    for post in posts:
        text = f"{post.title or ''} {post.text}".lower()
        for first, second in topics:
            if any(w in text for w in first) and any(w in text for w in second):
                hits += 1
    return hits


def run(results: list[dict[str, object]]) -> None:
    documents = [rss_document(n, ITEMS, seed=1) for n in range(DOCUMENTS)]
    posts: list[Post] = []
    ours = _rate(
        DOCUMENTS * ITEMS,
        lambda: [posts.extend(parse_feed(f"s{n}", d)) for n, d in enumerate(documents)],
    )
    sample = documents[:20]
    base = _rate(len(sample) * ITEMS, lambda: [feedparser.parse(d) for d in sample])
    _report(results, "parse: RSS items (lxml fast path vs feedparser)", ours, base, "posts/s")
    plain = _rate(DOCUMENTS * ITEMS, functools.partial(_plain_lxml, documents))
    name = "parse: plain lxml extraction, 5 fields (vs feedparser)"
    _report(results, name, plain, base, "items/s")
    print(f"parse: the fast path runs at {ours / plain:.2f}x the plain lxml extraction")

    for count in (10, 1000):
        topics = synthetic_topics(count)
        configs = [TopicConfig(f"t{i}", f"T{i}", _query(g)) for i, g in enumerate(topics)]
        watchlist, problems = Watchlist.compile(configs)
        assert not problems, problems
        ours = _rate(len(posts), functools.partial(_classify, watchlist, posts))
        naive_posts = posts if count <= 10 else posts[:2000]
        base = _rate(len(naive_posts), functools.partial(_naive_classify, naive_posts, topics))
        _report(results, f"classify: {count} topics (compiled vs `in` loop)", ours, base, "posts/s")

    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'bench.db'}")
        batch = 500  # posts per poll transaction
        match = {p.key: [TopicMatch("t0", ("ceasefire",))] for p in posts[::10]}

        def batched() -> None:
            for i in range(0, len(posts), batch):
                chunk = posts[i : i + batch]
                alerts = [
                    AlertIntent(p.source_id, p.post_id, "c", ("t0",))
                    for p in chunk
                    if p.key in match
                ]
                store.save_poll(SourceState("bench"), chunk, match, alerts, now)

        ours = _rate(len(posts), batched)
        single = [
            Post(f"single{i % 10}", f"x{i}", p.text, p.url) for i, p in enumerate(posts[:1000])
        ]

        def per_post() -> None:
            for post in single:
                store.save_poll(SourceState("bench"), [post], {}, [], now)

        base = _rate(len(single), per_post)
        store.close()
    _report(
        results,
        "store: SQLite WAL (batched poll transaction vs one per post)",
        ours,
        base,
        "posts/s",
    )


def _report(
    results: list[dict[str, object]], name: str, ours: float, base: float, unit: str
) -> None:
    print(f"{name}: {ours:,.0f} {unit} vs baseline {base:,.0f} ({ours / base:.1f}x)")
    results.append(
        {"name": name, "value": round(ours, 1), "unit": unit, "baseline": round(base, 1)}
    )


if __name__ == "__main__":
    rows: list[dict[str, object]] = []
    run(rows)
