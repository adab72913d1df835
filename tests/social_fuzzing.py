"""What the social adapters' fuzz tests share: odd strings, random JSON, fixture mutation, and
the check every parse result must pass.

The check: nothing but our own error types (bot.errors) escapes a parse function, every Post has
the types it promises and only characters XML 1.0 allows (Telegram's HTML parser refuses the
others), story fingerprinting takes it, and the adapters never needed their per-item safety
net (a warning with a traceback there is a bug of ours, contained).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from bot.errors import PostwatchError
from bot.model import Post
from bot.sources.bluesky import parse_author_feed
from bot.sources.mastodon import parse_statuses
from bot.sources.telegram import parse_channel_page
from bot.stories.keys import fingerprint

DATA = Path(__file__).parent / "data" / "social"
# Strings that have broken parsers before: malformed links, NUL and other characters lxml
# refuses, a lone surrogate, markup, entities, emoji with variation selectors, RTL marks.
NASTY = st.sampled_from(
    [
        "http://[::1",
        "https://x:99999/",
        "javascript:alert(1)",
        "\x00",
        "\x0b\x1f",
        "\ud800",
        "\ufffe",
        "<p>a<br>b</p>",
        "<span class='quote-inline'>RE: x</span>",
        "&amp;&lt;&#0;&#x110000;",
        "<p>&#8;&#xFFFE;&#12</p>",
        "⚡️❗️1️⃣",
        "\u202e\u200d",
        "",
        " ",
        "at://did:plc:x/app.bsky.feed.post/r",
        "2025-13-45T99:99:99Z",
    ]
)
# XML 1.0 §2.2 Char: what Telegram's HTML and lxml accept.
NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
TEXT = st.one_of(st.text(max_size=40), NASTY)
JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT)
RANDOM_JSON = st.recursive(
    JSON_LEAF,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(TEXT, children, max_size=4)
    ),
    max_leaves=20,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        node = node[step]
    return node


@st.composite
def mutated_json(draw: st.DrawFn, name: str) -> bytes:
    """A fixture with a few random mutations, serialised, sometimes cut short."""
    document = json.loads((DATA / name).read_text())
    for _ in range(draw(st.integers(1, 6))):
        paths = list(_paths(document))
        path = draw(st.sampled_from(paths))
        if not path:
            continue
        parent, key = _get(document, path[:-1]), path[-1]
        value = parent[key]
        actions = ["drop", "null", "swap", "truncate", "graft", "nasty", "splice"]
        action = draw(st.sampled_from(actions))
        if action == "drop":
            del parent[key]
        elif action == "null":
            parent[key] = None
        elif action == "swap":
            parent[key] = draw(RANDOM_JSON)
        elif action == "truncate" and isinstance(value, str):
            parent[key] = value[: draw(st.integers(0, len(value)))]
        elif action == "graft":
            parent[key] = json.loads(json.dumps(_get(document, draw(st.sampled_from(paths)))))
        elif action == "nasty":
            parent[key] = draw(NASTY) if isinstance(value, str) else draw(RANDOM_JSON)
        elif action == "splice" and isinstance(value, str):  # keeps the markup around it
            at = draw(st.integers(0, len(value)))
            parent[key] = value[:at] + draw(st.one_of(NASTY, st.text(max_size=5))) + value[at:]
    body = json.dumps(document, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        body = body[: draw(st.integers(0, len(body)))]
    return body


@contextmanager
def bugs_logged() -> Iterator[list[logging.LogRecord]]:
    """Warnings with a traceback from the adapters: the per-item safety net caught a bug."""
    caught: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.exc_info:
                caught.append(record)

    handler = Collect(logging.WARNING)
    logger = logging.getLogger("bot.sources")
    logger.addHandler(handler)
    try:
        yield caught
    finally:
        logger.removeHandler(handler)


def check(parse: Callable[[bytes], list[Post]], body: bytes) -> None:
    with bugs_logged() as bugs:
        try:
            posts = parse(body)
        except PostwatchError:
            return
    assert not bugs, [record.getMessage() for record in bugs]
    for post in posts:
        assert isinstance(post.post_id, str) and post.post_id
        assert isinstance(post.text, str)
        assert not NOT_XML_CHAR.search(post.text + (post.author or ""))  # the render's HTML
        assert post.url is None or post.url.startswith(("https://", "http://"))
        assert post.image_url is None or post.image_url.startswith(("https://", "http://"))
        assert post.author is None or isinstance(post.author, str)
        with suppress(PostwatchError):
            fingerprint(post)


def mastodon(body: bytes) -> list[Post]:
    return parse_statuses("m", body)


def bluesky(body: bytes) -> list[Post]:
    return parse_author_feed("b", body).posts


def telegram(body: bytes) -> list[Post]:
    return parse_channel_page("t", body)
