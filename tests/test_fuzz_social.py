"""Fuzzing the Mastodon and Bluesky adapters: mutated golden statuses and author feeds, random
JSON and bytes, and statuses and feed items built field by field, through each parse function
and through story fingerprinting (the check is in social_fuzzing.py).

Mutations start from our golden fixtures (tests/data/social/) and drop keys, null values, swap
types, truncate strings, splice odd text into them, graft one part of a document into another
and cut the serialised bytes.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from social_fuzzing import (
    RANDOM_JSON,
    TEXT,
    bluesky,
    check,
    mastodon,
    mutated_json,
    telegram,
)

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


MASTODON_FIXTURES = ["mastodon_v4.json", "truthsocial.json", "pleroma_akkoma.json"]
MASTODON_FIXTURES += ["gotosocial.json", "misskey.json", "mastodon_odd.json"]
BLUESKY_FIXTURES = ["bluesky_replies_reposts.json", "bluesky_quotes.json"]
BLUESKY_FIXTURES += ["bluesky_embeds_facets.json", "bluesky_malformed.json"]


@FUZZ
@given(st.sampled_from(MASTODON_FIXTURES).flatmap(mutated_json))
def test_mutated_mastodon_statuses(body: bytes) -> None:
    check(mastodon, body)


@FUZZ
@given(st.sampled_from(BLUESKY_FIXTURES).flatmap(mutated_json))
def test_mutated_bluesky_feeds(body: bytes) -> None:
    check(bluesky, body)


@settings(max_examples=60, deadline=None)
@given(RANDOM_JSON.map(lambda doc: json.dumps(doc).encode()), st.binary(max_size=200))
def test_random_json_and_bytes(document: bytes, junk: bytes) -> None:
    for parse in (mastodon, bluesky):
        check(parse, document)
        check(parse, junk)
        check(parse, json.dumps([json.loads(document)]).encode())  # a list of anything
        check(parse, json.dumps({"feed": [json.loads(document)]}).encode())
    check(telegram, junk)


# --- statuses and feed items built field by field ------------------------------------------

HTML = st.lists(
    st.one_of(TEXT, st.sampled_from(["<p>", "</p>", "<br>", "<b>", "</b>", '<a href="x">'])),
    max_size=8,
).map("".join)


@settings(max_examples=100, deadline=None)
@given(
    st.fixed_dictionaries(
        {"id": st.one_of(st.integers(), TEXT), "content": HTML},
        optional={
            "spoiler_text": TEXT,
            "url": TEXT,
            "created_at": TEXT,
            "poll": st.fixed_dictionaries(
                {"options": st.lists(st.fixed_dictionaries({"title": TEXT}))}
            ),
            "media_attachments": st.lists(
                st.fixed_dictionaries({"type": st.just("image"), "url": TEXT, "description": TEXT})
            ),
            "card": st.fixed_dictionaries({"title": TEXT, "description": TEXT, "url": TEXT}),
            "account": st.fixed_dictionaries({"acct": TEXT, "display_name": TEXT}),
            "quote": st.fixed_dictionaries(
                {
                    "state": st.just("accepted"),
                    "quoted_status": st.fixed_dictionaries({"content": HTML}),
                }
            ),
        },
    )
)
def test_statuses_of_random_fields(status: dict[str, Any]) -> None:
    check(
        mastodon,
        json.dumps([status, {"reblog": status, "id": "1"}]).encode("utf-8", "surrogatepass"),
    )


# Texts where a byte offset easily lands inside a character (2-, 3- and 4-byte UTF-8).
MULTIBYTE = st.one_of(TEXT, st.text(alphabet="aЖ€🙂 ./", max_size=30))
FACET = st.fixed_dictionaries(
    {
        "index": st.fixed_dictionaries(
            {"byteStart": st.integers(-2, 60), "byteEnd": st.integers(-2, 60)}
        ),
        "features": st.lists(
            st.fixed_dictionaries(
                {
                    "$type": st.just("app.bsky.richtext.facet#link"),
                    "uri": st.one_of(TEXT, st.just("https://example.org/a")),
                }
            ),
            max_size=2,
        ),
    }
)


@settings(max_examples=100, deadline=None)
@given(MULTIBYTE, st.lists(FACET, max_size=4), TEXT, TEXT)
def test_feed_items_of_random_fields(text: str, facets: list[Any], alt: str, title: str) -> None:
    """Facets with any byte offsets over any text, and every embed kind around random text."""
    record = {"$type": "app.bsky.feed.post", "text": text, "facets": facets}
    embeds = [
        {"$type": "app.bsky.embed.images#view", "images": [{"alt": alt, "fullsize": title}]},
        {
            "$type": "app.bsky.embed.external#view",
            "external": {"uri": alt, "title": title, "description": text},
        },
        {"$type": "app.bsky.embed.record#view", "record": {"uri": alt, "value": record}},
        {
            "$type": "app.bsky.embed.recordWithMedia#view",
            "record": {"record": {"uri": title, "value": record}},
            "media": {"alt": alt},
        },
    ]
    author = {"did": "did:plc:x", "handle": title, "displayName": alt}
    feed = [
        {
            "post": {
                "uri": "at://did:plc:x/app.bsky.feed.post/r1",
                "author": author,
                "record": record,
                "embed": embed,
            },
            "reply": {"parent": {"uri": alt, "record": record}},
        }
        for embed in embeds
    ]
    check(bluesky, json.dumps({"feed": feed}).encode("utf-8", "surrogatepass"))
