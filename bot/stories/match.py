"""Deciding stories: does a new post repeat a stored one, and which story does it join?

A candidate (a stored post sharing an index key, seen within the window) is the same story when:
- the normalized texts are equal; or
- on word 3-grams A (new) and B (stored), resemblance |A∩B| / |A∪B| or, when the shorter text
  has at least MIN_CONTAINED_WORDS (8) words, containment |A∩B| / min(|A|, |B|) reaches
  `threshold`, and the shorter text sits inside the longer one the way relays leave a text
  (`_relayed`: added to or cut at the edges, never reworded inside); or
- both link the same canonical article and the texts agree at half the bar (containment at any
  length), or one of them is under LINK_ONLY_WORDS words (a bare link, "Must read:").
The best score wins; ties go to the oldest story (lowest id), then to stored stories over ones
new in the batch, so every worker decides alike whatever order the candidates come in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from difflib import Match, SequenceMatcher
from itertools import chain, pairwise
from typing import NamedTuple

from bot.stories.keys import MIN_CONTAINED_WORDS, StoryFingerprint

DEFAULT_WINDOW = timedelta(hours=72)
# The bench (bench/bench_stories.py: seeded, 20,000 posts, 3,169 planted relays), joins that went
# wrong / relays missed by threshold: 0.4: 6/3, 0.5: 5/3, 0.6: 4/3, 0.7: 3/6, 0.8: 3/35. The
# alignment rules below do most of the separating, so the bar is flat from 0.4 to 0.7; 0.6 sits
# under what real relays score: 1.0 for the truncated X mirror of the Truth Social post, 0.87
# (0.76 without the page title) for the press secretary quoting the White House readout, while
# "attacked Kharkiv …" / "attacked Sumy …" also scores 0.67 and only `_relayed` tells them apart.
DEFAULT_THRESHOLD = 0.6
VERIFY_WORDS = 3  # one changed word breaks three 3-grams, not a whole 5-word shingle
LINKED_BAR = 0.5  # share of `threshold` enough when both posts link the same article
LINK_ONLY_WORDS = 3  # under this many words a post is a link with a label
# Candidates sharing under this share of the smaller key set are not compared: every accepted
# match on the bench shared at least 0.2 (short texts have few keys), most candidates that stock
# phrases bring in share under 0.1. Without it: the same joins, half the speed. Links exempt.
KEY_SHARE = 0.15
# Rules of `_relayed`, each switched off on the bench (precision 0.9987 with all of them):
# a reworded word inside 0.874 (allowing one per 30 words: "one-place" copies with a city
# changed merged), joining mid-clause 0.907, parting mid-clause 0.955, a shared footer 0.994;
# recall never rose by more than 0.001. The header and swap rules change nothing there; the
# unit tests show the posts they separate.
LABEL_WORDS = 2  # "Readout:" may precede a quote of a post's last sentence; 4 is as footer-off
SWAP_WORDS = 4  # "Kharkiv: …" / "Sumy: …"


@dataclass(frozen=True, slots=True)
class StoryCandidate:
    """A stored post sharing a key with the new one: its story, fingerprint and first sight."""

    story_id: int
    fingerprint: StoryFingerprint
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class StoryChoice:
    """Where one post of a batch goes: `story_id` set, that stored story; otherwise the story
    started by the batch post at index `new_story` (its own index when it starts one)."""

    story_id: int | None
    new_story: int | None = None


def choose_story(
    fp: StoryFingerprint,
    candidates: Sequence[StoryCandidate],
    *,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
    threshold: float = DEFAULT_THRESHOLD,
) -> int | None:
    """The story `fp` joins among stored candidates, or None to start a new one."""
    return choose_stories([fp], candidates, now=now, window=window, threshold=threshold)[0].story_id


def choose_stories(
    fps: Sequence[StoryFingerprint],
    candidates: Sequence[StoryCandidate],
    *,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[StoryChoice]:
    """Stories for one poll's posts, in order, given the stored candidates of all their keys.

    Each post also sees the batch posts before it, so a feed repeating a text in one poll makes
    one story. Candidates seen before `now - window`, or sharing no key with a post, are
    ignored for it: the decision is the same whether the caller passes the lookup's rows or more.
    """
    start = now - window
    keysets = [frozenset(fp.keys) for fp in fps]
    if len(fps) == 1:  # a lone post (the in-memory index, a poll of one): no batch to track
        matcher = _Matcher(fps[0], threshold)
        best = _best(matcher, _lone_options(matcher, keysets[0], candidates, start))
        return [StoryChoice(None, 0) if best is None else StoryChoice(best[2])]
    wanted = frozenset().union(*keysets)
    relevant: list[tuple[StoryCandidate, frozenset[int]]] = []  # with the batch keys each holds
    for candidate in candidates:
        if candidate.seen_at >= start:
            held = wanted.intersection(candidate.fingerprint.keys)
            if held:
                relevant.append((candidate, held))
    # key -> the relevant candidates holding it: each post then meets only its own candidates,
    # not every candidate of the batch (a poll of 20 posts brings in ~1,000).
    holders: dict[int, list[int]] = {}
    for number, (_, held) in enumerate(relevant):
        for key in held:
            holders.setdefault(key, []).append(number)
    earlier: list[tuple[StoryFingerprint, tuple[int, int]]] = []  # batch posts before this one
    earlier_holders: dict[int, list[int]] = {}  # key -> those of them holding it
    choices: list[StoryChoice] = []
    for index, (fp, own) in enumerate(zip(fps, keysets, strict=True)):
        stored = [
            (relevant[n][0].fingerprint, (0, relevant[n][0].story_id), shared)
            for n, shared in _shared_counts(own, holders)
        ]
        batch = [(*earlier[n], shared) for n, shared in _shared_counts(own, earlier_holders)]
        matcher = _Matcher(fp, threshold)
        best = _best(matcher, [o for o in stored + batch if matcher.may_agree(o[0], o[2])])
        if best is None:
            choices.append(StoryChoice(None, index))
            ref = (1, index)
        elif best[1] == 0:
            choices.append(StoryChoice(best[2]))
            ref = (0, best[2])
        else:
            choices.append(StoryChoice(None, best[2]))
            ref = (1, best[2])
        for key in own:
            earlier_holders.setdefault(key, []).append(len(earlier))
        earlier.append((fp, ref))
    return choices


def _lone_options(
    matcher: _Matcher, own: frozenset[int], candidates: Iterable[StoryCandidate], start: datetime
) -> Iterator[tuple[StoryFingerprint, tuple[int, int], int]]:
    """`_best`'s options for a lone post: candidates within the window that may agree."""
    may_agree = matcher.may_agree
    for candidate in candidates:
        if candidate.seen_at >= start:
            other = candidate.fingerprint
            shared = sum(map(own.__contains__, other.keys))  # no set built: the hot loop
            if shared and may_agree(other, shared):
                yield other, (0, candidate.story_id), shared


def _best(
    matcher: _Matcher, options: Iterable[tuple[StoryFingerprint, tuple[int, int], int]]
) -> tuple[float, int, int] | None:
    """(-score, 0 stored | 1 new, story id | batch index) of the best agreeing option."""
    best: tuple[float, int, int] | None = None
    for other, ref, shared in options:
        best = _better(best, matcher.agreement(other, shared), ref)
    return best


def _shared_counts(own: frozenset[int], holders: dict[int, list[int]]) -> Iterable[tuple[int, int]]:
    """(candidate number, keys it shares with `own`): C-level counting, the hot loop."""
    return Counter(chain.from_iterable(map(holders.__getitem__, own & holders.keys()))).items()


def similarity(a: StoryFingerprint, b: StoryFingerprint, *, linked: bool = False) -> float:
    """The score `choose_story` compares with the threshold, before the alignment check."""
    if a.text and a.text == b.text:
        return 1.0
    return _score(_shape_of(a), _shape_of(b), linked=linked)


def _better(
    best: tuple[float, int, int] | None, score: float | None, ref: tuple[int, int]
) -> tuple[float, int, int] | None:
    if score is None:
        return best
    option = (-score, *ref)
    return option if best is None or option < best else best


class _Shape(NamedTuple):
    words: int
    # Word 3-grams, or the whole text when shorter, as strings ("a b c"): the same sets as word
    # tuples (words hold no spaces), but strings are not tracked by the garbage collector, whose
    # passes over a big index made building tuples twice as slow (issue 12).
    grams: frozenset[str]


def _shape_of(fp: StoryFingerprint) -> _Shape:
    """`_shape(fp.text)`, kept on the fingerprint (`StoryFingerprint.derived`): a stored post is
    compared again and again while in the window, and most candidates are never compared."""
    shape: _Shape | None = fp.derived
    if shape is None:
        shape = _shape(fp.text)
        object.__setattr__(fp, "derived", shape)  # a memo on a frozen value, see its field
    return shape


def _shape(text: str) -> _Shape:
    tokens = text.split()
    if len(tokens) < VERIFY_WORDS:
        return _Shape(len(tokens), frozenset([" ".join(tokens)] if tokens else []))
    grams = zip(*(tokens[i:] for i in range(VERIFY_WORDS)), strict=False)
    return _Shape(len(tokens), frozenset(map(" ".join, grams)))


def _score(a: _Shape, b: _Shape, *, linked: bool) -> float:
    shared = len(a.grams & b.grams)
    if not shared:
        return 0.0
    resemblance = shared / (len(a.grams) + len(b.grams) - shared)
    if linked or min(a.words, b.words) >= MIN_CONTAINED_WORDS:
        return max(resemblance, shared / min(len(a.grams), len(b.grams)))
    return resemblance


def _resemblance_only_below(a_words: int, b_words: int, threshold: float) -> bool:
    """Too short for containment, and lengths too far apart for resemblance to reach the
    threshold (it is at most the smaller 3-gram count over the larger): skip the comparison."""
    small, large = sorted((a_words, b_words))
    if small >= MIN_CONTAINED_WORDS:
        return False
    grams = [max(n - VERIFY_WORDS + 1, 1) if n else 0 for n in (small, large)]
    return grams[0] < threshold * grams[1]


class _Matcher:
    """One new post, asked about the candidates that may agree with it."""

    __slots__ = ("fp", "own_bar", "threshold", "urls", "words")

    def __init__(self, fp: StoryFingerprint, threshold: float) -> None:
        self.fp = fp
        self.urls = frozenset(fp.urls)
        self.words = fp.text.count(" ") + 1 if fp.text else 0
        self.threshold = threshold
        self.own_bar = KEY_SHARE * len(fp.keys)

    def may_agree(self, other: StoryFingerprint, shared_keys: int) -> bool:
        """False when `agreement` would surely say None: too few shared keys (KEY_SHARE of the
        smaller key set, tested as two products), no shared link, not the same text. Most
        candidates, those a stock phrase brings, end here cheaply (issue 12)."""
        return (
            shared_keys >= self.own_bar
            or shared_keys >= KEY_SHARE * len(other.keys)
            or (bool(self.urls) and not self.urls.isdisjoint(other.urls))
            or self.fp.text == other.text
        )

    @property
    def shape(self) -> _Shape:
        return _shape_of(self.fp)  # built on the first comparison: most posts have none

    def agreement(self, other: StoryFingerprint, shared_keys: int) -> float | None:
        """The score when `other`, sharing `shared_keys` keys, is the same story; else None."""
        linked = not self.urls.isdisjoint(other.urls)
        if self.fp.text and self.fp.text == other.text:
            return 1.0
        if not linked:
            return self._unlinked(other, shared_keys)
        shape = _shape_of(other)
        if min(self.shape.words, shape.words) < LINK_ONLY_WORDS:
            return 0.0
        score = _score(self.shape, shape, linked=True)
        return score if score and score >= self.threshold * LINKED_BAR else None

    def _unlinked(self, other: StoryFingerprint, shared_keys: int) -> float | None:
        other_words = other.text.count(" ") + 1 if other.text else 0
        if shared_keys < KEY_SHARE * min(
            len(self.fp.keys), len(other.keys)
        ) or _resemblance_only_below(self.words, other_words, self.threshold):
            return None  # cheap bounds first: most candidates end here
        shape = _shape_of(other)
        score = _score(self.shape, shape, linked=False)
        if not score or score < self.threshold or not _relayed(self.fp, other):
            return None
        return score


def _relayed(a: StoryFingerprint, b: StoryFingerprint) -> bool:
    """Whether the shorter text sits inside the longer one the way relays leave a text.

    Relays add at the edges (a prefix, a byline, a lead-in, the rest of the text) and cut
    (truncation); a quote may skip parts of the longer text. They do not reword. Aligning the
    shorter text inside the longer on shared runs of 3+ words, these are other stories:
    - a word of the shorter text between two shared runs: "attacked Kharkiv with drones, the
      governor said" / "attacked Sumy with drones, the governor said";
    - a few words swapped at an edge: "Kharkiv: drones hit …" / "Sumy: drones hit …";
    - words of each before the shared run when that run starts mid-clause in either: "Mayor
      Sato said Kyiv would not accept a freeze" / "The premier repeated that Kyiv would not …"
      (a quote after a label starts a clause in both: "Readout: “The leaders agreed…”");
    - words of each after the shared run when it ends mid-clause in both: "talks with Merz on
      sanctions" / "talks with Merz on prisoner exchanges";
    - the same end (or start) and different text before (after) it: a shared footer or header,
      "Blackout in Mykolaiv. Stay with Front Wire, your daily source of verified news." Up to
      LABEL_WORDS words may precede a quote of the longer text's end.
    """
    (short, short_starts), (long, long_starts) = sorted(
        ((a.text.split(), a.starts), (b.text.split(), b.starts)), key=lambda pair: len(pair[0])
    )
    if len(short) >= VERIFY_WORDS and f" {' '.join(short)} " in f" {' '.join(long)} ":
        # The shorter text whole inside the longer: the alignment below would find it as its
        # one run, with nothing of the shorter text around it, and say yes (issue 12: most
        # relays, cut or added to at the edges; SequenceMatcher cost more than the rest).
        return True
    runs = _runs(short, long)
    if not runs:
        return False
    first, last = runs[0], runs[-1]
    lead = (first.a, first.b)  # words before the shared runs: (the shorter's, the longer's)
    tail = (len(short) - last.a - last.size, len(long) - last.b - last.size)
    end_short, end_long = last.a + last.size, last.b + last.size
    reworded = any(nxt.a > cur.a + cur.size for cur, nxt in pairwise(runs))
    swapped = any(own and theirs and max(own, theirs) <= SWAP_WORDS for own, theirs in (lead, tail))
    joined_mid_clause = all(lead) and (first.a not in short_starts or first.b not in long_starts)
    parted_mid_clause = all(tail) and end_short not in short_starts and end_long not in long_starts
    shared_footer = lead[0] > LABEL_WORDS and lead[1] > 0 and tail == (0, 0)
    shared_header = tail[0] > LABEL_WORDS and tail[1] > 0 and lead == (0, 0)
    return not (
        reworded
        or swapped
        or joined_mid_clause
        or parted_mid_clause
        or shared_footer
        or shared_header
    )


def _runs(short: list[str], long: list[str]) -> list[Match]:
    """The blocks of VERIFY_WORDS+ words of `SequenceMatcher(None, short, long,
    autojunk=False).get_matching_blocks()`, by its own recursion stopped where the longest
    match is shorter: no part of such a span holds a longer one (issue 12: the short matches
    were most of the alignment's cost). Without junk, no two blocks are adjacent to merge."""
    matcher = SequenceMatcher(None, short, long, autojunk=False)
    found: list[Match] = []
    todo = [(0, len(short), 0, len(long))]
    while todo:
        alo, ahi, blo, bhi = todo.pop()
        i, j, k = block = matcher.find_longest_match(alo, ahi, blo, bhi)
        if k >= VERIFY_WORDS:
            found.append(block)
            if alo < i and blo < j:
                todo.append((alo, i, blo, j))
            if i + k < ahi and j + k < bhi:
                todo.append((i + k, ahi, j + k, bhi))
    return sorted(found)
