"""Story fingerprints and their index keys: what is stored for a post and looked up for a new one.

Winnowing (Schleimer, Wilkerson, Aiken, SIGMOD 2003: the MOSS algorithm). A post's normalized
words are cut into overlapping SHINGLE_WORDS-word shingles; of every WINNOW_WINDOW consecutive
shingles the one with the smallest CRC-32 is picked, and each picked shingle becomes a signed
64-bit key with BLAKE2b (stable across processes and machines, unlike `hash()`, and a SQL
BIGINT). Any run of SHINGLE_WORDS + WINNOW_WINDOW - 1 words shared by two texts is then
guaranteed to give them a shared key, wherever it sits in either text: near copies, truncated
copies and a short text quoted inside a long one are all found, in either arrival order. One more
key stands for the whole normalized text (exact copies of texts too short to shingle) and one per
canonical link.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from itertools import compress
from typing import Any

from bot.model import Post
from bot.stories.text import article_urls, relay_words

# Part of every key: bump it when normalization or keys change. Rows written before then stop
# matching (a repeat may alert once more within one window); they never match wrongly.
# 2 (issue 9): text folding drops variation selectors, keycaps and stray combining marks, and
# canonical links keep IPv6 brackets and leave out links without a usable host.
# 3 (issue 12): 8-word shingles in windows of 4, picked on CRC-32; a BLAKE2b person per key kind.
FINGERPRINT_VERSION = 3
# On the bench (20,000 posts) 4-word shingles (a guaranteed run of 7) let 11 joins go wrong
# against 4; 6 words (run 9) gave 2 and missed no more relays. Issue 12: stock phrases ("the head
# of the Kharkiv military administration said") made 5-word keys bring ~77 candidate posts per
# lookup with 10,000 indexed; 8 words bring ~19 (precision 0.9987, recall 0.9984, against 0.9987
# / 0.9991), and a window of 4 keeps ~15 keys a post (windows of 3: 23 posts, 19 keys, recall
# 0.9991; 10-word shingles in windows of 2: 8 posts but 24 keys).
SHINGLE_WORDS = 8
WINNOW_WINDOW = 4  # about 2 / (4 + 1) of the shingles become keys: ~15 keys for 45 words
# Any shared run of this many words gives two texts a shared key; shorter ones may.
GUARANTEED_RUN = SHINGLE_WORDS + WINNOW_WINDOW - 1
# A text shorter than this joins another post's story only by being equal to it or sharing its
# link, never by being inside it: "Tune in!" or "Air raid alert in Kyiv" is inside many unrelated
# posts. Raising it to GUARANTEED_RUN (11) on the bench missed 0.0013 more relays, no fewer joins
# went wrong: short headlines relayed inside a longer post.
MIN_CONTAINED_WORDS = 8

# Full-text feeds can carry whole articles; their first 1,000 words are the part relays and quotes
# come from, and the cap bounds the keys per post (about 400) and the alignment work.
MAX_WORDS = 1000

# One BLAKE2b state per key kind, copied for each key: cheaper than a new hasher with its
# parameters each time (issue 12).
_TEXT_KEY, _SHINGLE_KEY, _URL_KEY = (
    hashlib.blake2b(digest_size=8, person=b"pw-sty-%d-%s" % (FINGERPRINT_VERSION, kind))
    for kind in (b"x", b"s", b"u")
)
_signed = partial(int.from_bytes, byteorder="big", signed=True)
# surrogatepass: a lone surrogate (JSON's "\ud83d" escape) hashes instead of raising.
_encode = partial(str.encode, encoding="utf-8", errors="surrogatepass")


@dataclass(frozen=True, slots=True)
class StoryFingerprint:
    """What story matching needs of a post: its relay-normalized words, links and index keys."""

    text: str  # relay_normalize(title + text): folded words joined by single spaces
    urls: tuple[str, ...]  # canonical article links, sorted
    keys: tuple[int, ...]  # index keys, sorted, signed 64-bit
    starts: tuple[int, ...] = (0,)  # indices of the words that start a sentence or clause
    # What matching derives from the fields above (word 3-grams), built by `bot.stories.match`
    # on first comparison and kept with the print: a stored post is compared again and again
    # while in the window (issue 12). Never stored, compared or printed; two threads may both
    # build it, to the same value.
    derived: Any = field(default=None, init=False, repr=False, compare=False)


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
    if len(words) > MAX_WORDS:
        words, starts = words[:MAX_WORDS], tuple(i for i in starts if i < MAX_WORDS)
    # Folded words hold no whitespace: the text is normalized as stored_fingerprint makes it.
    return _fingerprint(" ".join(words), article_urls(post.text, post.url), starts)


def stored_fingerprint(
    text: str, urls: Iterable[str], starts: Iterable[int] = (0,)
) -> StoryFingerprint:
    """A fingerprint rebuilt from stored parts (or call `fingerprint` on the stored post: it is
    pure). Without `starts` every text is one clause, which makes matching stricter."""
    return _fingerprint(" ".join(text.split()), urls, starts)


def _fingerprint(text: str, urls: Iterable[str], starts: Iterable[int]) -> StoryFingerprint:
    keys = set(_text_keys(text)) if text else set()
    unique_urls = tuple(sorted(set(urls)))
    keys.update(_hashes(_URL_KEY, map(_encode, unique_urls)))
    return StoryFingerprint(text, unique_urls, tuple(sorted(keys)), tuple(starts))


def _text_keys(text: str) -> list[int]:
    """The whole-text key and the winnowed shingle keys. Winnowing picks on CRC-32 (C-level
    and stable, enough to order the shingles); only the picked ones get a 64-bit BLAKE2b key,
    so a post costs one short hash per shingle and a long one per key (issue 12)."""
    encoded = _encode(text)
    found = _hashes(_TEXT_KEY, [encoded])
    tokens = encoded.split(b" ")
    if len(tokens) < SHINGLE_WORDS:
        return found
    shingles = list(map(b" ".join, zip(*(tokens[i:] for i in range(SHINGLE_WORDS)), strict=False)))
    order = list(map(zlib.crc32, shingles))
    # The minimum of every window; a text shorter than one window keeps its overall minimum.
    windows = zip(*(order[i:] for i in range(WINNOW_WINDOW)), strict=False)
    picked = set(map(min, windows)) if len(order) >= WINNOW_WINDOW else {min(order)}
    found += _hashes(_SHINGLE_KEY, compress(shingles, map(picked.__contains__, order)))
    return found


def index_keys(fp: StoryFingerprint) -> list[int]:
    """What to store for a post and look up for a new one: signed 64-bit integers."""
    return list(fp.keys)


def _hashes(kind: Any, values: Iterable[bytes]) -> list[int]:
    found: list[int] = []
    for value in values:
        hasher = kind.copy()
        hasher.update(value)
        found.append(_signed(hasher.digest()))
    return found
