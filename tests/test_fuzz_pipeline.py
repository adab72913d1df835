"""Fuzzing everything after the adapters (issue 9): arbitrary posts — any text, malformed links,
control characters, lone surrogates, naive and extreme dates — through making them storable,
fingerprints and index keys, the story choice, storing, and rendering alerts and digests.

Nothing but bot.errors types may escape (and none is expected here); rendering must keep
Telegram's limits (bot.deliver.render documents them) and produce HTML Telegram accepts.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from fakes.telegram_rules import visible_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.deliver.digest import MAX_PREVIEW, first_words, render_digests
from bot.deliver.measure import CAPTION_LIMIT, MESSAGE_LIMIT, utf16_len
from bot.deliver.render import render_alert, render_plain
from bot.model import Alert, Post, SourceState
from bot.store.database import Store
from bot.store.storable import storable_post, unique_posts
from bot.stories.carrier import carrier_label
from bot.stories.index import MemoryStoryIndex
from bot.stories.keys import (
    NO_FINGERPRINT,
    StoryFingerprint,
    fingerprint,
    index_keys,
    stored_fingerprint,
)
from bot.stories.links import canonical_url
from bot.stories.match import StoryCandidate, choose_stories
from bot.stories.text import article_urls

NOW = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)
_INT64 = range(-(2**63), 2**63)

# Pieces real posts and broken feeds carry, mixed with arbitrary characters.
_TRICKY = st.sampled_from(
    [
        "\x00", "\x01", "\x7f", "\t", "\n", "\r", "\u2028", "\ufeff", "\u200b", "\u200d",
        "\ufe0f", "\ufe0e", "\u20e3", "\u0301", "\u202e", "\uff03", "\u2100", "\uff0f",
        "😀", "🇺🇦", "👩‍💻", "1️⃣", "⚡️", "…", "...", "&amp;", "&#0;", "&#xD800;", "<b>",
        "</p>", "<br/>", "[", "]", ":", "/", "?", "#", "@", "%", "%zz", "%00", " ",
        "http://[::1", "https://[::1]:99999/a", "http://[zz]/", "http://a b/", "www.",
        "https://www.Example.org/a/?utm_source=x&id=3#top", "t.co/abc", "https://youtu.be/x",
        "mailto:a@b", "RT @x:", "JUST IN:", "BREAKING", "Read more at", "— Jane Doe", " #tag",
        "(via @x)", "ceasefire", "Зеленський", "перемир'я",
    ]
)  # fmt: skip
_SURROGATE = st.integers(0xD800, 0xDFFF).map(chr)
_CHAR = st.one_of(st.characters(), _SURROGATE, _TRICKY)
_TEXT = st.lists(_CHAR, max_size=60).map("".join)
# Long texts cheaply: a fragment repeated, so caps, trims and long-input paths are reached.
_LONG = st.tuples(_TEXT.filter(bool), st.integers(50, 400)).map(lambda pair: pair[0] * pair[1])
_ANY_TEXT = st.one_of(_TEXT, _TEXT, _LONG)
_HOST = st.sampled_from(
    ["example.org", "WWW.Example.ORG.", "[::1", "[::1]", "[zz]", "[v1.x]", "ex ample.com",
     "例え.jp", "a" * 300, "", "m.x.com", "twitter.com", "exa\x00mple.org", "user:pw@h.io"]
)  # fmt: skip
_PORT = st.sampled_from(["", ":80", ":443", ":8080", ":99999", ":x", ":-1", ":"])
_BUILT_URL = st.tuples(
    st.sampled_from(["http://", "https://", "HTTP://", "ftp://", "", "//", "tg:"]),
    _HOST,
    _PORT,
    _ANY_TEXT,  # long ones too: a link longer than a message
).map("".join)
_URL = st.one_of(st.none(), _BUILT_URL, _TEXT)
_OFFSET = st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23))
_WHEN = st.one_of(
    st.none(),
    st.datetimes(),  # naive
    st.datetimes(timezones=_OFFSET.map(timezone)),  # year 1 to 9999, any offset
)
_SHORT = st.lists(_CHAR, max_size=12).map("".join)
_POST = st.builds(
    Post,
    source_id=_SHORT,
    post_id=_SHORT,
    text=_ANY_TEXT,
    url=_URL,
    author=st.one_of(st.none(), _SHORT, _LONG),
    title=st.one_of(st.none(), _TEXT),
    published_at=_WHEN,
    lang=st.one_of(st.none(), _SHORT),
    image_url=_URL,
)


def _valid(fp: StoryFingerprint) -> None:
    assert list(fp.keys) == sorted(set(fp.keys)) and all(k in _INT64 for k in fp.keys)
    assert index_keys(fp) == list(fp.keys)
    # What the store keeps of a fingerprint rebuilds it exactly.
    assert stored_fingerprint(fp.text, fp.urls, fp.starts) == fp


@settings(max_examples=300, deadline=None)
@given(url=_URL.filter(lambda u: u is not None), text=_ANY_TEXT)
def test_links_never_raise_and_article_links_are_real_hosts(url: str, text: str) -> None:
    canonical = canonical_url(url)
    assert canonical == canonical_url(url)
    for link in article_urls(text, url):
        host = link.partition("/")[0]  # a path may hold "://" (web.archive.org/web/1/https://…)
        assert "://" not in host and host
        assert not any(c.isspace() or ord(c) < 0x20 or c == "\x7f" for c in host)


@settings(max_examples=200, deadline=None)
@given(posts=st.lists(_POST, min_size=1, max_size=6))
def test_any_post_has_a_valid_stable_fingerprint(posts: list[Post]) -> None:
    for post in posts:
        fp = fingerprint(post)
        _valid(fp)
        assert fingerprint(post) == fp
        assert isinstance(carrier_label(post), str)


@settings(max_examples=80, deadline=None)
@given(
    batch=st.lists(_POST, min_size=1, max_size=8),
    stored=st.lists(st.tuples(_POST, st.integers(0, 100)), max_size=8),
    broken=st.sets(st.integers(0, 7)),
    data=st.data(),
)
def test_any_batch_gets_a_consistent_story_choice(
    batch: list[Post],
    stored: list[tuple[Post, int]],
    broken: set[int],
    data: st.DataObject,
) -> None:
    # Copies within the batch, so joins happen, and some posts without a fingerprint.
    batch += data.draw(st.lists(st.sampled_from(batch), max_size=4))
    fps = [NO_FINGERPRINT if i in broken else fingerprint(p) for i, p in enumerate(batch)]
    candidates = [
        StoryCandidate(100 + n, fingerprint(post), NOW - timedelta(hours=hours))
        for n, (post, hours) in enumerate(stored)
    ]
    choices = choose_stories(fps, candidates, now=NOW)

    assert len(choices) == len(batch)
    live = {
        c.story_id: set(c.fingerprint.keys)
        for c in candidates
        if NOW - c.seen_at <= timedelta(hours=72)
    }
    for index, (fp, choice) in enumerate(zip(fps, choices, strict=True)):
        if fp is NO_FINGERPRINT:
            assert choice.story_id is None and choice.new_story == index
        elif choice.story_id is not None:
            assert set(fp.keys) & live[choice.story_id]  # a stored story sharing a key
        else:
            assert choice.new_story is not None and choice.new_story <= index
            assert choices[choice.new_story].new_story == choice.new_story  # it started one
        for earlier in range(index):
            if fp.text and fp.text == fps[earlier].text and fp.keys:
                assert _story(choices, index) == _story(choices, earlier)  # copies: one story
    MemoryStoryIndex().assign_batch(batch, NOW)  # the in-memory index takes any batch too


def _story(choices: list, index: int) -> tuple[str, int]:
    choice = choices[index]
    if choice.story_id is not None:
        return ("stored", choice.story_id)
    return ("new", choice.new_story)


@settings(max_examples=300, deadline=None)
@given(post=_POST)
def test_any_post_is_made_storable_once_and_for_all(post: Post) -> None:
    clean, _ = storable_post(post)
    for value in (clean.source_id, clean.post_id, clean.text, clean.url, clean.author):
        if value is not None:
            assert "\x00" not in value
            value.encode("utf-8")  # no lone surrogate left
    when = clean.published_at
    assert when is None or when.utcoffset() == timedelta(0)
    assert storable_post(clean) == (clean, ())


_counter = itertools.count()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # one store, fresh ids
)
@given(posts=st.lists(_POST, min_size=1, max_size=6))
def test_any_posts_are_stored_whole(store: Store, posts: list[Post]) -> None:
    source_id = f"fuzz{next(_counter)}"
    batch = unique_posts([storable_post(replace(p, source_id=source_id))[0] for p in posts])
    prints = {post.key: fingerprint(post) for post in batch}
    saved = store.save_poll(SourceState(source_id), batch, {}, [], NOW, fingerprints=prints)

    assert len(saved.posts) == len(batch)
    rows = {r.id: r for r in store.export_posts() if r.source == source_id}
    assert {k: (r.text, r.url, r.title) for k, r in rows.items()} == {
        p.post_id: (p.text, p.url, p.title) for p in batch
    }
    assert all(r.story is not None for r in rows.values())


_LIMIT = st.sampled_from([64, 300, CAPTION_LIMIT, MESSAGE_LIMIT])


def _alert(post: Post, number: int = 1, **fields: object) -> Alert:
    return Alert(number, "-100123", post, **fields)


@settings(max_examples=200, deadline=None)
@given(
    post=_POST,
    kind=_SHORT,
    topics=st.lists(_SHORT, max_size=6).map(tuple),
    also=st.lists(_SHORT, max_size=6).map(tuple),
    limit=_LIMIT,
)
def test_any_alert_renders_within_telegrams_limits(
    post: Post, kind: str, topics: tuple[str, ...], also: tuple[str, ...], limit: int
) -> None:
    alert = _alert(post, source_kind=kind, topic_names=topics, terms=(), also_posted_by=also)
    html = render_alert(alert, now=NOW, limit=limit)
    assert utf16_len(visible_text(html)) <= limit  # and Telegram's parser accepts it
    assert utf16_len(render_plain(alert, now=NOW, limit=limit)) <= limit


@settings(max_examples=100, deadline=None)
@given(posts=st.lists(_POST, min_size=1, max_size=40), topics=st.lists(_SHORT, max_size=4))
def test_any_digest_fits_and_lists_every_alert_once(posts: list[Post], topics: list[str]) -> None:
    alerts = [
        _alert(p, n, source_kind="rss", topic_names=tuple(topics), terms=())
        for n, p in enumerate(posts)
    ]
    digests = render_digests(alerts, "more than 10 were waiting")

    for digest in digests:
        assert utf16_len(visible_text(digest.html)) <= MESSAGE_LIMIT
        assert utf16_len(digest.plain) <= MESSAGE_LIMIT
    listed = [alert_id for digest in digests for alert_id in digest.alert_ids]
    assert listed == [a.alert_id for a in alerts]


@settings(max_examples=300, deadline=None)
@given(text=_ANY_TEXT, words=st.integers(1, 30))
def test_first_words_keep_their_bound(text: str, words: int) -> None:
    preview = first_words(text, words)
    assert "\n" not in preview
    assert utf16_len(preview) <= MAX_PREVIEW + 1  # "…" after at most MAX_PREVIEW units


# Inputs whose cost was once quadratic: with the pytest timeout, a regression fails here.
_HUGE = [
    "." * 300_000,  # boilerplate search: 9,000 dots took 27 s
    "!!! " * 100_000,
    ".!?|•:;)" * 50_000,
    "x" * 1_000_000,  # first_words trimmed one code point at a time
    "a-" * 200_000,
    "http://[::1 " * 50_000,
]


def test_huge_inputs_are_handled_in_linear_time() -> None:
    for text in _HUGE:
        fp = fingerprint(Post("s", "1", text, url=text[:100_000], title=text[:10_000]))
        _valid(fp)
        assert utf16_len(first_words(text)) <= MAX_PREVIEW + 1
        alert = _alert(
            Post("s", "1", text, url="https://e.org/" + text),
            source_kind="rss",
            topic_names=(text,),
            terms=(),
        )
        assert utf16_len(visible_text(render_alert(alert))) <= MESSAGE_LIMIT
        [digest] = render_digests([alert], "flood")
        assert utf16_len(digest.plain) <= MESSAGE_LIMIT
