"""Story fingerprints and their index keys: what is stored for a post and looked up for a new one.

Winnowing (Schleimer, Wilkerson, Aiken, SIGMOD 2003: the MOSS algorithm). A post's normalized
words are cut into overlapping SHINGLE_WORDS-word shingles, each hashed to a signed 64-bit
integer with BLAKE2b (stable across processes and machines, unlike `hash()`, and a SQL BIGINT);
of every WINNOW_WINDOW consecutive shingle hashes the smallest is kept. Any run of
SHINGLE_WORDS + WINNOW_WINDOW - 1 = 8 words shared by two texts is then guaranteed to give them
a shared key, wherever it sits in either text: near copies, truncated copies and a short text
quoted inside a long one are all found, in either arrival order. One more key stands for the
whole normalized text (exact copies of texts too short to shingle) and one per canonical link.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from bot.model import Post
from bot.stories.text import article_urls, relay_words

# Part of every key: bump it when normalization or keys change. Rows written before then stop
# matching (a repeat may alert once more within one window); they never match wrongly.
# 2 (issue 9): text folding drops variation selectors, keycaps and stray combining marks, and
# canonical links keep IPv6 brackets and leave out links without a usable host.
FINGERPRINT_VERSION = 2
# On the bench (20,000 posts) 4-word shingles (a guaranteed run of 7) let 11 joins go wrong
# against 4; 6 words (run 9) gave 2 and missed no more relays. 5 keeps 8-word quotes findable.
SHINGLE_WORDS = 5
WINNOW_WINDOW = 4  # about 2 / (4 + 1) of the shingles become keys: ~17 keys for 50 words
# The shortest shared run the keys are guaranteed to find. A text shorter than this joins
# another post's story only by being equal to it or sharing its link, never by being inside it:
# "Tune in!" or "Air raid alert in Kyiv" is inside many unrelated posts.
MIN_CONTAINED_WORDS = SHINGLE_WORDS + WINNOW_WINDOW - 1

# Full-text feeds can carry whole articles; their first 1,000 words are the part relays and quotes
# come from, and the cap bounds the keys per post (about 400) and the alignment work.
MAX_WORDS = 1000

_HASH = hashlib.blake2b(digest_size=8, person=b"postwatch-sty-%d" % FINGERPRINT_VERSION)


@dataclass(frozen=True, slots=True)
class StoryFingerprint:
    """What story matching needs of a post: its relay-normalized words, links and index keys."""

    text: str  # relay_normalize(title + text): folded words joined by single spaces
    urls: tuple[str, ...]  # canonical article links, sorted
    keys: tuple[int, ...]  # index keys, sorted, signed 64-bit
    starts: tuple[int, ...] = (0,)  # indices of the words that start a sentence or clause


# What a post whose fingerprint could not be computed is given: no keys, so it shares none with
# any post and starts a story of its own; it is still stored (issue 9: nothing is lost).
NO_FINGERPRINT = StoryFingerprint("", (), (), ())


def fingerprint(post: Post) -> StoryFingerprint:
    """The fingerprint of a post: its title (unless the text already contains it, as feed
    bridges' truncated titles are) and text, its own URL and the full links in its text."""
    words, starts = relay_words(post.text)
    if post.title:
        title, title_starts = relay_words(post.title)
        if title and f" {' '.join(title)} " not in f" {' '.join(words)} ":
            starts = title_starts + tuple(len(title) + i for i in starts if words)
            words = title + words
    starts = tuple(i for i in starts if i < MAX_WORDS)
    return stored_fingerprint(
        " ".join(words[:MAX_WORDS]), article_urls(post.text, post.url), starts
    )


def stored_fingerprint(
    text: str, urls: Iterable[str], starts: Iterable[int] = (0,)
) -> StoryFingerprint:
    """A fingerprint rebuilt from stored parts (or call `fingerprint` on the stored post: it is
    pure). Without `starts` every text is one clause, which makes matching stricter."""
    tokens = text.split()
    keys = {_key(b"x", text)} if text else set()
    if len(tokens) >= SHINGLE_WORDS:
        shingles = [
            _key(b"s", " ".join(tokens[i : i + SHINGLE_WORDS]))
            for i in range(len(tokens) - SHINGLE_WORDS + 1)
        ]
        # The minimum of every window; a text shorter than one window keeps its overall minimum.
        last = max(len(shingles) - WINNOW_WINDOW, 0)
        keys.update(min(shingles[i : i + WINNOW_WINDOW]) for i in range(last + 1))
    unique_urls = tuple(sorted(set(urls)))
    keys.update(_key(b"u", url) for url in unique_urls)
    return StoryFingerprint(" ".join(tokens), unique_urls, tuple(sorted(keys)), tuple(starts))


def index_keys(fp: StoryFingerprint) -> list[int]:
    """What to store for a post and look up for a new one: signed 64-bit integers."""
    return list(fp.keys)


def _key(kind: bytes, value: str) -> int:
    digest = _HASH.copy()
    # surrogatepass: a lone surrogate (JSON's "\ud83d" escape) hashes instead of raising.
    digest.update(kind + value.encode("utf-8", "surrogatepass"))
    return int.from_bytes(digest.digest(), "big", signed=True)
