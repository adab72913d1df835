"""Stories: one alert per story, however many accounts and platforms repeat it.

Pure core, no I/O and no clock (`now` is a parameter). Every stored post belongs to exactly one
story. A new post joins the story of a stored post seen within the window (default 72 h) when
its text is the same or a near copy, after `relay_normalize` has undone what relays do
(prefixes, bylines, links, truncation, case, quotes, emoji, HTML); otherwise it starts a story.

Finding candidates: winnowing (Schleimer, Wilkerson, Aiken, SIGMOD 2003, the MOSS algorithm).
Each post's normalized words are cut into overlapping 5-word shingles, each hashed to a stable
signed 64-bit integer (BLAKE2b, so keys agree across processes and machines and fit a SQL
BIGINT); of every 4 consecutive shingle hashes the smallest is kept. Two texts sharing any run of
5 + 4 - 1 = 8 words are guaranteed to share a key, so the index finds near copies, truncated
copies and a short text quoted anywhere inside a long one, in either arrival order. Add one key
for the whole normalized text (exact copies of texts too short to shingle) and one per canonical
article link. The store keeps one row per (key, story): `(key, story_id, post, seen_at)`,
upserted to the story's latest post, and looks up `WHERE key IN (:keys) AND seen_at >= :start`;
cost follows the posts in the window sharing a key with the new one, never the history.

Deciding (`choose_story`): a candidate agrees when, on word 3-gram sets A and B,
  resemblance |A∩B| / |A∪B| >= threshold, or
  containment |A∩B| / min(|A|, |B|) >= threshold, the shorter text having >= 8 words
  (a few words alone must not join by containment: "Tune in!" is inside many posts);
when both posts link the same canonical article, the bar is halved and containment counts at
any length, and a text of under 3 words (a bare link, "Must read:") agrees by the link alone.
The best score wins; ties go to the oldest story (lowest id), so every worker decides alike.

Thresholds, measured with bench/bench_stories.py (seeded synthetic set, 20,000 posts, 15 %
planted relays using every transformation above, hard negatives sharing boilerplate and topic
words): see the comments at DEFAULT_THRESHOLD and MIN_CONTAINED_WORDS.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from bot.model import Post
from bot.stories_text import article_urls, canonical_url, relay_normalize

__all__ = [
    "DEFAULT_THRESHOLD",
    "DEFAULT_WINDOW",
    "FINGERPRINT_VERSION",
    "MAX_STORIES_PER_KEY",
    "StoryCandidate",
    "StoryChoice",
    "StoryFingerprint",
    "canonical_url",
    "choose_stories",
    "choose_story",
    "fingerprint",
    "index_keys",
    "relay_normalize",
    "similarity",
    "stored_fingerprint",
]

# Part of every key: bump it when normalization or keys change. Old rows then simply stop
# matching (a repeat may alert again once, within one window); they never match wrongly.
FINGERPRINT_VERSION = 1
DEFAULT_WINDOW = timedelta(hours=72)
# Measured (bench_stories, 20k posts): recall of planted relays plateaus from 0.6 down; 0.5
# keeps precision 1.000 with hard negatives at their worst under 0.35. See the bench sweep.
DEFAULT_THRESHOLD = 0.5
SHINGLE_WORDS = 5  # index shingles: 4-word ones repeat across unrelated posts 3x as often
WINNOW_WINDOW = 4  # keys per post about 2 / (4 + 1) of its shingles
# Shortest shared run the keys are guaranteed to find; shorter texts join only when equal
# (or by a shared link), never by containment.
MIN_CONTAINED_WORDS = SHINGLE_WORDS + WINNOW_WINDOW - 1
VERIFY_WORDS = 3  # verification 3-grams: one changed word costs 3 of them, not a whole 5-gram
LINKED_BAR = 0.5  # share of `threshold` required when both posts link the same article
LINK_ONLY_WORDS = 3  # below this many words a post is "a link with a label"
# A key shared by more stories than this in the window is a stock phrase; the lookup returns
# only its newest rows, so a hot phrase cannot make every lookup slow. A real copy shares
# many keys, so it is still found through the others.
MAX_STORIES_PER_KEY = 64

_HASH = hashlib.blake2b(digest_size=8, person=b"postwatch-sty-%d" % FINGERPRINT_VERSION)


@dataclass(frozen=True, slots=True)
class StoryFingerprint:
    """What story matching needs of a post: its relay-normalized words, links and index keys."""

    text: str  # relay_normalize(title + text), words joined by single spaces
    urls: tuple[str, ...]  # canonical article links, sorted
    keys: tuple[int, ...]  # index keys, sorted, signed 64-bit


@dataclass(frozen=True, slots=True)
class StoryCandidate:
    """One stored post that shares a key with the new one: its story, fingerprint and time."""

    story_id: int
    fingerprint: StoryFingerprint
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class StoryChoice:
    """Where one post of a batch goes: an existing story, or a story new in this batch.

    `story_id` set: join that stored story. Otherwise `new_story` is the batch index of the post
    that starts the new story: the post's own index when it starts one, an earlier index when it
    repeats an earlier post of the same batch.
    """

    story_id: int | None
    new_story: int | None = None


def fingerprint(post: Post) -> StoryFingerprint:
    """The story fingerprint of a post: title (unless the text already starts with or contains
    it, as feed bridges' truncated titles do) and text, its own URL and the links in its text."""
    text = relay_normalize(post.text)
    if post.title:
        title = relay_normalize(post.title)
        if title and f" {title} " not in f" {text} ":
            text = f"{title} {text}".strip()
    return stored_fingerprint(text, article_urls(post.text, post.url))


def stored_fingerprint(text: str, urls: Iterable[str]) -> StoryFingerprint:
    """A fingerprint rebuilt from its stored parts (normalized text, canonical links)."""
    tokens = text.split()
    keys = {_key(b"x", text)} if text else set()
    if len(tokens) >= SHINGLE_WORDS:
        shingles = [
            _key(b"s", " ".join(tokens[i : i + SHINGLE_WORDS]))
            for i in range(len(tokens) - SHINGLE_WORDS + 1)
        ]
        # Winnowing: the minimum of every window; a text shorter than one window keeps its min.
        last = max(len(shingles) - WINNOW_WINDOW, 0)
        keys.update(min(shingles[i : i + WINNOW_WINDOW]) for i in range(last + 1))
    unique_urls = tuple(sorted(set(urls)))
    keys.update(_key(b"u", url) for url in unique_urls)
    return StoryFingerprint(" ".join(tokens), unique_urls, tuple(sorted(keys)))


def index_keys(fp: StoryFingerprint) -> list[int]:
    """What to store for a post and look up for a new one (signed 64-bit integers)."""
    return list(fp.keys)


def _key(kind: bytes, value: str) -> int:
    digest = _HASH.copy()
    digest.update(kind + value.encode())
    return int.from_bytes(digest.digest(), "big", signed=True)


class _Shape(NamedTuple):
    """What verification compares of one text; cached, as stored posts are asked about often."""

    words: int
    grams: frozenset[tuple[str, ...]]  # word 3-grams (the whole text when shorter)
    figures: frozenset[str]  # words with a digit: "30", "2026", "5th"


@lru_cache(maxsize=1 << 14)
def _shape(text: str) -> _Shape:
    tokens = text.split()
    if len(tokens) < VERIFY_WORDS:
        grams = frozenset([tuple(tokens)] if tokens else [])
    else:
        grams = frozenset(zip(*(tokens[i:] for i in range(VERIFY_WORDS)), strict=False))
    figures = frozenset(t for t in tokens if not t.isalpha() and any(c.isdigit() for c in t))
    return _Shape(len(tokens), grams, figures)


def similarity(a: StoryFingerprint, b: StoryFingerprint, *, linked: bool = False) -> float:
    """Resemblance or, when allowed, containment of the two texts' word 3-grams (0..1)."""
    if a.text and a.text == b.text:
        return 1.0
    return _score(_shape(a.text), _shape(b.text), linked=linked)


def _score(a: _Shape, b: _Shape, *, linked: bool) -> float:
    shared = len(a.grams & b.grams)
    if not shared:
        return 0.0
    resemblance = shared / (len(a.grams) + len(b.grams) - shared)
    if linked or min(a.words, b.words) >= MIN_CONTAINED_WORDS:
        return max(resemblance, shared / min(len(a.grams), len(b.grams)))
    return resemblance


def _figures_conflict(a: _Shape, b: _Shape) -> bool:
    """Each text has a number the other lacks: two reports of one template ("shot down 45 of
    60 drones" / "12 of 30"), not a relay. Relays add numbers (a date) or cut them (truncation),
    they do not change them."""
    return not (a.figures <= b.figures or b.figures <= a.figures)


class _Matcher:
    """One new post's view for verification, built once and asked about many candidates."""

    __slots__ = ("fp", "keys", "shape", "threshold", "urls")

    def __init__(self, fp: StoryFingerprint, threshold: float) -> None:
        self.fp = fp
        self.keys = frozenset(fp.keys)
        self.urls = frozenset(fp.urls)
        self.shape = _shape(fp.text)
        self.threshold = threshold

    def agreement(self, other: StoryFingerprint) -> float | None:
        """The score when `other` is the same story, else None."""
        if self.keys.isdisjoint(other.keys):
            return None  # the index could not have found it; deciding alike either way
        if self.fp.text and self.fp.text == other.text:
            return 1.0
        linked = not self.urls.isdisjoint(other.urls)
        shape = _shape(other.text)
        if linked and min(self.shape.words, shape.words) < LINK_ONLY_WORDS:
            return 0.0
        if _figures_conflict(self.shape, shape):
            return None
        score = _score(self.shape, shape, linked=linked)
        bar = self.threshold * LINKED_BAR if linked else self.threshold
        return score if score >= bar and score > 0 else None


def choose_story(
    fp: StoryFingerprint,
    candidates: Sequence[StoryCandidate],
    *,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
    threshold: float = DEFAULT_THRESHOLD,
) -> int | None:
    """The story `fp` joins among stored candidates seen within `window`, or None for a new one."""
    return choose_stories([fp], candidates, now=now, window=window, threshold=threshold)[0].story_id


def choose_stories(
    fps: Sequence[StoryFingerprint],
    candidates: Sequence[StoryCandidate],
    *,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[StoryChoice]:
    """Stories for a batch of new posts, in order, given the stored candidates of all their keys.

    Posts of the batch see the earlier ones, so a feed repeating a text in one poll makes one
    story. Deterministic: the best score wins, then a stored story (lowest id) over a new one.
    """
    start = now - window
    by_key: dict[int, list[StoryCandidate]] = {}
    for candidate in candidates:
        if candidate.seen_at >= start:
            for key in candidate.fingerprint.keys:
                by_key.setdefault(key, []).append(candidate)
    batch_by_key: dict[int, list[int]] = {}
    choices: list[StoryChoice] = []
    for index, fp in enumerate(fps):
        matcher = _Matcher(fp, threshold)
        best: tuple[float, int, int] | None = None  # (-score, 0 stored | 1 new, id or index)
        stored = {id(c): c for key in fp.keys for c in by_key.get(key, ())}
        for candidate in stored.values():
            score = matcher.agreement(candidate.fingerprint)
            best = _better(best, score, (0, candidate.story_id))
        for earlier in sorted({j for key in fp.keys for j in batch_by_key.get(key, ())}):
            prior = choices[earlier]
            ref = (0, prior.story_id) if prior.story_id is not None else (1, prior.new_story or 0)
            best = _better(best, matcher.agreement(fps[earlier]), ref)
        if best is None:
            choices.append(StoryChoice(None, index))
        elif best[1] == 0:
            choices.append(StoryChoice(best[2]))
        else:
            choices.append(StoryChoice(None, best[2]))
        for key in fp.keys:
            batch_by_key.setdefault(key, []).append(index)
    return choices


def _better(
    best: tuple[float, int, int] | None, score: float | None, ref: tuple[int, int]
) -> tuple[float, int, int] | None:
    if score is None:
        return best
    option = (-score, *ref)
    return option if best is None or option < best else best
