"""Stories: one alert per story, however many accounts and platforms repeat it.

Pure core, no I/O and no clock (`now` is a parameter). Every stored post belongs to exactly one
story. A new post joins the story of a post seen within the window (default 72 h) when it is the
same text or a near copy of it; otherwise it starts a story. The parts:

- `stories_text`: `relay_normalize` undoes what relays do (prefixes like "JUST IN:" or "RT @x:",
  bylines like "— Donald J. Trump Posts From His Truth Social", links, truncation, case,
  quotes, emoji, HTML remnants, boilerplate such as "Follow us on Telegram"); `canonical_url`
  reduces a link to the article it names.
- `stories_keys`: `fingerprint(post)` and its `index_keys`: winnowed 5-word shingle hashes, so
  any 8-word run two posts share gives them a shared key (near copies, truncations and quotes,
  wherever they sit), plus whole-text and link keys. Stable signed 64-bit integers.
- `stories_match`: `choose_story` / `choose_stories` verify candidates on word 3-grams and an
  alignment that tells a relay (added to or cut at the edges) from a post that merely shares a
  formula or a footer, with deterministic tie-breaks.
- `stories_index`: `MemoryStoryIndex`, the key → posts lookup the SQL store mirrors, with an
  `assign(post, now)` that numbers new stories.

How the store uses it, per poll, in the poll's transaction:
    fps = [fingerprint(p) for p in new_posts]
    rows = lookup({k for fp in fps for k in index_keys(fp)}, now)      # see stories_index
    candidates = [StoryCandidate(r.story_id, fingerprint(r.post), r.seen_at) for r in rows]
    for post, fp, choice in zip(new_posts, fps, choose_stories(fps, candidates, now=now)): ...
        # choice.story_id: join it; else the story new in this batch started by post
        # choice.new_story (itself when new_story is its own index); then insert its key rows.

Measured with bench/bench_stories.py (seeded synthetic set, see its docstring): recall of
planted relays 0.999 and precision of joins 0.999, where an exact hash of the casefolded text
finds 0.07 of the relays; each threshold's own measurement is at its definition.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.model import Post
from bot.stories_index import MAX_POSTS_PER_KEY, MemoryStoryIndex
from bot.stories_keys import (
    FINGERPRINT_VERSION,
    MIN_CONTAINED_WORDS,
    StoryFingerprint,
    fingerprint,
    index_keys,
    stored_fingerprint,
)
from bot.stories_match import (
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW,
    StoryCandidate,
    StoryChoice,
    choose_stories,
    choose_story,
    similarity,
)
from bot.stories_text import canonical_url, relay_normalize

__all__ = [
    "DEFAULT_THRESHOLD",
    "DEFAULT_WINDOW",
    "FINGERPRINT_VERSION",
    "MAX_POSTS_PER_KEY",
    "MIN_CONTAINED_WORDS",
    "MemoryStoryIndex",
    "StoryCandidate",
    "StoryChoice",
    "StoryFingerprint",
    "canonical_url",
    "carrier_label",
    "choose_stories",
    "choose_story",
    "fingerprint",
    "index_keys",
    "relay_normalize",
    "similarity",
    "stored_fingerprint",
]


# Hosts whose platform has a better-known name than the host itself.
_PLATFORMS = {
    "x.com": "X",
    "twitter.com": "X",
    "truthsocial.com": "Truth Social",
    "bsky.app": "Bluesky",
    "t.me": "Telegram",
    "reddit.com": "Reddit",
    "facebook.com": "Facebook",
    "instagram.com": "Instagram",
    "youtube.com": "YouTube",
}
_HANDLE = re.compile(r"\((@[^\s()]+)\)$")  # "Donald J. Trump (@realDonaldTrump)"


def carrier_label(post: Post) -> str:
    """Who carried a post, for "Also posted by: …": "@TrumpDailyPosts (X)". The handle when
    the author has one, else the author's name, else the source id; then the platform."""
    author = (post.author or "").strip()
    handle = _HANDLE.search(author)
    who = handle.group(1) if handle else author or post.source_id
    host = urlsplit(post.url or "").hostname or ""
    host = host.removeprefix("www.").removeprefix("mobile.").removeprefix("m.")
    platform = "X" if "nitter" in host else _PLATFORMS.get(host, host)  # X's RSS bridges
    return f"{who} ({platform})" if platform else who
