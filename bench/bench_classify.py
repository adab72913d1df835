"""Classification throughput: the compiled Watchlist against a naive per-topic loop.

Synthetic, seeded data: 100,000 posts drawn from a Zipf-distributed vocabulary of English,
Russian and Ukrainian-looking words (plus real news words, hashtags, mentions, URLs, emoji,
titles on a third of the posts), and 10 / 100 / 1,000 / 10,000 topics built from templates
that use every query feature (OR groups, phrases, prefixes, exclusions, proximity, fields).
Topic words come from below the 1,000 most common words, as watchlist terms are names and
subjects, not function words. The vocabulary is large (about 120,000 word forms), as a real
news stream's is: with a small one every random topic fires on a large share of posts.

The naive baseline is what one would write without the index: prepare each post once, then run every
topic's compiled query on it (bot.classify.evaluate.QueryMatcher). It is the same matching code, so
both give identical matches (asserted on the sample). At large topic counts it is timed on a sample
of the posts, printed beside it, to keep the whole run near a minute. "cand/post" is how many
topics' queries the watchlist evaluated per post, "match/post" how many matched.

Run: python -m bench.bench_classify   (or python bench/bench_classify.py)
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from itertools import accumulate

from bot.classify.evaluate import PostView, QueryMatcher
from bot.classify.watchlist import Watchlist
from bot.model import SOURCE_KINDS, Post, TopicConfig

SEED = 20250301
POSTS = 100_000
TOPIC_COUNTS = (10, 100, 1_000, 10_000)
NAIVE_TOPIC_EVALUATIONS = 2_000_000  # naive sample size: posts x topics, about 10 s per row

_COMMON = (
    "the of and to a in is that for it on was with as be at by this have from or not are "
    "but an they which you one were all we there can has more will would what about their "
    "out up said after people new year two first over also president could time just now "
    "today"
).split()
_NEWS = (
    "ceasefire Ukraine Putin Zelensky Russia Kyiv energy infrastructure strike drone "
    "missile talks truce Trump Gaza sanctions Kremlin front Donbas Crimea grid attack"
).split()
_CYRILLIC_COMMON = "и в не на что с по это как из но за от то же для так все".split()
_CYRILLIC_NEWS = "перемирие перемирия Україна Украина Киев Київ удар енергетика обстріл".split()
_LATIN_SYLLABLES = (
    "ka ro mi te sun lo ber an dor vel is tra po ne gim wes cal ur fen ol bri sta qua zen "
    "hol mar pit dex lun gor vas tin chu ple fro nik sar bel om rud"
).split()
_CYRILLIC_SYLLABLES = (
    "ка ро ми те ну ло бер ан дор вел ис тра по не гим ве кал ур фен ол бри ста ква зен "
    "хол мар пит дек лун гор вас тин чу пле фро ник сар бел ом руд"
).split()
_LATIN_ENDINGS = ("", "s", "ed", "ing", "er")
_CYRILLIC_ENDINGS = ("а", "и", "ой", "у", "ы", "ом", "ів")
_DECORATIONS = ("🔥", "🇺🇦", "!!!", "—", "…", "(", ")", ":", "“quoted”", "’s")


@dataclass(frozen=True)
class Corpus:
    words: list[str]  # by frequency rank (Zipf)
    stems: list[str]  # word stems that inflected forms in `words` share, for `stem*` topics


def _stems(rng: random.Random, syllables: list[str], count: int) -> list[str]:
    out: set[str] = set()
    while len(out) < count:
        out.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))))
    return sorted(out)


def build_corpus(rng: random.Random) -> Corpus:
    """Function words first, then news words, then a long tail of invented inflected words:
    40,000 Latin-script and 20,000 Cyrillic stems with one to three endings each."""
    stems, tail = [], []
    for syllables, endings, count in (
        (_LATIN_SYLLABLES, _LATIN_ENDINGS, 40_000),
        (_CYRILLIC_SYLLABLES, _CYRILLIC_ENDINGS, 20_000),
    ):
        for stem in _stems(rng, syllables, count):
            stems.append(stem)
            tail += [stem + e for e in rng.sample(endings, rng.randint(1, 3))]
    rng.shuffle(tail)
    return Corpus(_COMMON + _CYRILLIC_COMMON + _NEWS + _CYRILLIC_NEWS + tail, stems)


def generate_posts(rng: random.Random, corpus: Corpus, count: int) -> list[Post]:
    vocabulary = corpus.words
    weights = list(accumulate(1.0 / rank for rank in range(1, len(vocabulary) + 1)))
    posts = []
    for n in range(count):
        picked = rng.choices(vocabulary, cum_weights=weights, k=rng.randint(8, 45))
        parts = []
        for word in picked:
            roll = rng.random()
            if roll < 0.03:
                parts.append("#" + word)
            elif roll < 0.05:
                parts.append("@" + word)
            elif roll < 0.10:
                parts.append(word.upper() if roll < 0.06 else word.capitalize())
            elif roll < 0.13:
                parts.append(word + rng.choice(_DECORATIONS))
            else:
                parts.append(word)
        if rng.random() < 0.05:
            parts.append(f"https://news.example.com/{rng.choice(vocabulary)}-{n}")
        title = " ".join(rng.choices(vocabulary, cum_weights=weights, k=8)).capitalize()
        posts.append(
            Post(
                source_id=f"source-{n % 50}",
                post_id=str(n),
                text=" ".join(parts),
                author=f"author{n % 500}",
                title=title if n % 3 == 0 else None,
                lang=("en", "uk", None)[n % 3],
            )
        )
    return posts


def generate_topics(rng: random.Random, corpus: Corpus, count: int) -> list[TopicConfig]:
    def w() -> str:
        return rng.choice(corpus.words[1_000:])

    long_stems = [s for s in corpus.stems if len(s) >= 7]

    def stem() -> str:  # prefixes as people write them (перемири*): a word's stem, 7+ letters
        return rng.choice(long_stems) + "*"

    templates = (
        lambda: f"{w()} OR {w()} OR {w()}",
        lambda: f'({w()} OR "{w()} {w()}" OR {stem()}) AND ({w()} OR {w()})',
        lambda: f'"{w()} {w()}"',
        lambda: f"{w()} -{w()}",
        lambda: f'"{w()} {w()}"~3 OR {w()} NEAR/5 {w()}',
        lambda: f"{w()} kind:{rng.choice(SOURCE_KINDS)}",
        lambda: f"({w()} OR {w()}) lang:uk",
        lambda: f"author:author{rng.randrange(500)} {w()}",
        lambda: f"{stem()} AND NOT {w()}",
    )
    topics = [
        TopicConfig(
            "ceasefire",
            "Ceasefire",
            '(ceasefire OR "cease-fire" OR перемири*) '
            "AND (Ukraine OR Putin OR Zelensky OR Україна)",
        ),
        TopicConfig("energy", "Energy", '"energy infrastructure" OR "energy grid" OR енергетик*'),
    ]
    while len(topics) < count:
        topics.append(TopicConfig(f"t{len(topics)}", "synthetic", rng.choice(templates)()))
    return topics[:count]


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def run(results: list[dict[str, object]]) -> None:
    rng = random.Random(SEED)
    corpus = build_corpus(rng)
    started = time.perf_counter()
    posts = generate_posts(rng, corpus, POSTS)
    kinds = [SOURCE_KINDS[i % len(SOURCE_KINDS)] for i in range(len(posts))]
    print(f"generated {len(posts):,} posts in {time.perf_counter() - started:.1f} s")
    header = (
        f"{'topics':>7} {'compile':>8} {'watchlist':>12} {'naive loop':>12} {'naive sample':>13}"
        f" {'speedup':>8} {'cand/post':>9} {'match/post':>10}"
    )
    print(header)
    print("-" * len(header))
    first_rate = None
    for count in TOPIC_COUNTS:
        topics = generate_topics(random.Random(SEED + count), corpus, count)
        t0 = time.perf_counter()
        watchlist, problems = Watchlist.compile(topics)
        compile_s = time.perf_counter() - t0
        assert not problems, problems

        rate, matched = 0.0, 0
        for _ in range(2):  # best of two: the first pass also warms the word-folding memo
            t0 = time.perf_counter()
            matched = 0
            for post, kind in zip(posts, kinds, strict=True):
                matched += len(watchlist.match(post, kind))
            rate = max(rate, _rate(len(posts), time.perf_counter() - t0))
        first_rate = first_rate or rate

        matchers = [(t.id, QueryMatcher.parse(t.query)) for t in topics]
        sample = min(len(posts), max(200, NAIVE_TOPIC_EVALUATIONS // count))
        t0 = time.perf_counter()
        naive = []
        for post, kind in zip(posts[:sample], kinds[:sample], strict=True):
            view = PostView(post, kind)
            naive.append([(tid, terms) for tid, m in matchers if (terms := m.match(view))])
        naive_rate = _rate(sample, time.perf_counter() - t0)

        for post, kind, expected in zip(posts, kinds, naive, strict=False):
            got = [(m.topic_id, m.terms) for m in watchlist.match(post, kind)]
            assert got == expected, (post, got, expected)
        candidates = sum(
            _candidates(watchlist, p, k) for p, k in zip(posts[:2000], kinds, strict=False)
        )

        print(
            f"{count:>7,} {compile_s:>7.2f}s {rate:>10,.0f}/s {naive_rate:>10,.0f}/s"
            f" {sample:>7,} posts {rate / naive_rate:>7.0f}x {candidates / 2000:>9.2f}"
            f" {matched / len(posts):>10.3f}"
        )
        results.append(
            {
                "name": f"classify @ {count:,} topics: watchlist vs per-topic loop",
                "value": round(rate),
                "unit": "posts/s",
                "baseline": round(naive_rate),
            }
        )
    last = results[-1]["value"]
    assert isinstance(last, int)
    assert first_rate is not None
    flatness = last / first_rate
    print(
        f"watchlist throughput at {TOPIC_COUNTS[-1]:,} topics is {flatness:.2f}x that at "
        f"{TOPIC_COUNTS[0]} (one core, best of 2 passes over {len(posts):,} posts; the naive "
        "loop is timed once, on the first posts of the sample size shown)"
    )
    results.append(
        {
            "name": f"classify: {TOPIC_COUNTS[-1]:,} vs {TOPIC_COUNTS[0]} topics, watchlist rate",
            "value": round(flatness, 2),
            "unit": "ratio",
            "baseline": None,
        }
    )


def _candidates(watchlist: Watchlist, post: Post, kind: str) -> int:
    """Topics whose query was evaluated for this post (reaches into the index on purpose)."""
    view = PostView(post, kind)
    index = watchlist._index
    found: set[int] = set()
    for word in view.words:
        found.update(index[word])
    for key in watchlist._field_keys(view):
        found.update(index[key])
    return len(found)


if __name__ == "__main__":
    run([])
