"""Matching posts against a watchlist: realistic posts, fields, proximity, reported terms,
highlighting, broken topics, and agreement with a brute-force reference evaluator."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.classify.evaluate import post_words
from bot.classify.lang import could_be, detect_language
from bot.classify.query import (
    And,
    Filter,
    Near,
    Not,
    Or,
    Query,
    Term,
    Word,
    format_query,
    parse_query,
)
from bot.classify.text import normalize, tokenize, words
from bot.classify.watchlist import Watchlist, highlight_spans
from bot.errors import QueryError
from bot.model import Post, TopicConfig, TopicMatch

TRUTH = (
    "Just finished a very good and productive call with President Putin of Russia. We agreed "
    "to an immediate CEASEFIRE on all Energy and Infrastructure, with an understanding that we "
    "will be working quickly to have a Complete Ceasefire and, ultimately, an END to this very "
    "horrible War between Russia and Ukraine."
)
ZELENSKY = (
    "Сьогодні говорив з командою щодо енергетичного перемир'я. Україна готова підтримати "
    "припинення ударів по енергетиці, якщо Росія дотримуватиметься."
)
CEASEFIRE = '(ceasefire OR "cease-fire" OR перемири*) AND (Ukraine OR Putin OR Zelensky)'


def post(
    text: str,
    *,
    title: str | None = None,
    author: str | None = None,
    source_id: str = "src",
    lang: str | None = None,
) -> Post:
    return Post(source_id, "1", text, author=author, title=title, lang=lang)


def compile_topics(**queries: str) -> Watchlist:
    watchlist, problems = Watchlist.compile([TopicConfig(k, k, q) for k, q in queries.items()])
    assert problems == []
    return watchlist


def matched(watchlist: Watchlist, p: Post, kind: str = "rss") -> dict[str, tuple[str, ...]]:
    return {m.topic_id: m.terms for m in watchlist.match(p, kind)}


def fires(query: str, text: str, **fields: str) -> bool:
    return bool(matched(compile_topics(q=query), post(text, **fields)))


def test_the_truth_social_ceasefire_post() -> None:
    watchlist = compile_topics(
        ceasefire=CEASEFIRE,
        energy='"energy infrastructure"~2 OR "energy grid"',
        stocks="stock* market",
    )
    assert matched(watchlist, post(TRUTH, author="realDonaldTrump"), "mastodon") == {
        "ceasefire": ("ceasefire", "Ukraine", "Putin"),
        "energy": ('"energy infrastructure"~2',),
    }
    short = "...agreed to a CEASEFIRE on energy infrastructure... Ukraine..."
    assert matched(watchlist, post(short)) == {
        "ceasefire": ("ceasefire", "Ukraine"),
        "energy": ('"energy infrastructure"~2',),
    }


def test_cyrillic_prefixes_match_inflected_forms() -> None:
    for text in ("Перемирие с Путиным", "условия перемирия", "ПЕРЕМИРИЕМ", "#перемирие"):
        assert fires("перемири*", text), text
    assert not fires("перемири*", "мир")
    # Ukrainian writes перемир'я with any of several apostrophes; the stem still matches.
    for apostrophe in "'’ʼ":
        assert fires("перемир*", f"енергетичного перемир{apostrophe}я")
        assert fires(f'"перемир{apostrophe}я"', "енергетичного перемир'я")


def test_the_zelensky_telegram_post_in_ukrainian() -> None:
    watchlist = compile_topics(
        ceasefire="(ceasefire OR перемир*) AND (Ukraine OR Україна)",
        energy="енергет* NEAR/3 перемир*",
        russian="перемирие",
    )
    assert matched(watchlist, post(ZELENSKY), "telegram") == {
        "ceasefire": ("перемир*", "Україна"),
        "energy": ("енергет*", "перемир*"),
    }


@pytest.mark.parametrize(
    ("query", "text", "hit"),
    [
        ("war", "War between Russia and Ukraine", True),
        ("war", "a warning was issued", False),
        ("war", "the post-war order", True),
        ("war*", "a warning was issued", True),
        ("Ukraine", "Ukraine's grid", True),
        ("Ukraine", "Ukraine’s grid", True),
        ("Ukraine", "UKRAINIAN forces", False),
        ("ceasefire", "#Ceasefire now", True),
        ("ceasefire", "#CeasefireNow", False),  # a hashtag is one word
        ("realDonaldTrump", "via @realDonaldTrump:", True),
        ("Trump", "via @realDonaldTrump", False),
        ("cease-fire", "a cease-fire was agreed", True),
        ("cease-fire", "a cease fire was agreed", True),
        ("cease-fire", "a cease–fire was agreed", True),
        ('"cease-fire"', "CEASE FIRE!", True),
        ("cease-fire", "a ceasefire was agreed", False),  # joined spelling: write both
        ("cease-fire", "fire, cease", False),
        ("Ukraine", "🇺🇦Ukraine🔥", True),
        ("Київ", "Удари по КИЄВУ та Київ", True),
        ("Zelensky", "Zelensky/Зеленський", True),
        ("Зеленськ*", "Zelensky/Зеленський", True),
        ("Élysée", "a statement from the elysee palace", True),
        ("停火", "双方同意停火。", True),
        ("停火", "停止火力", False),
        ("U.S.", "the U.S. envoy", True),
        ("US", "the U.S. envoy", False),
    ],
)
def test_words_match_whole_words_in_any_script(query: str, text: str, hit: bool) -> None:
    assert fires(query, text) is hit


def test_title_and_text_both_count_but_phrases_do_not_span_them() -> None:
    p = post("infrastructure hit overnight", title="Energy")
    assert fires("energy", p.text, title="Energy")
    assert fires("energy infrastructure", p.text, title="Energy")
    assert not fires('"energy infrastructure"', p.text, title="Energy")
    assert not fires("energy NEAR/5 infrastructure", p.text, title="Energy")


def test_proximity() -> None:
    text = "strikes on the energy grid and other infrastructure"
    # Three words (grid, and, other) between the two.
    assert fires('"energy infrastructure"~3', text)
    assert not fires('"energy infrastructure"~2', text)
    assert not fires('"infrastructure energy"~10', text)  # a phrase keeps its order
    assert fires("infrastructure NEAR/3 energy", text)  # NEAR does not
    assert not fires("infrastructure NEAR/2 energy", text)
    assert fires('"energy grid" NEAR/2 infrastructure', text)
    assert not fires("energy NEAR/5 energy", text)  # two occurrences needed


def test_near_n_and_phrase_n_both_count_the_words_between() -> None:
    # NEAR/0 and "a b"~0 mean next to each other; n allows n words between (~n in total).
    assert fires("peace NEAR/0 talks", "peace talks")
    assert fires("talks NEAR/0 peace", "peace talks")  # either order
    assert not fires("peace NEAR/0 talks", "peace and talks")
    assert fires("peace NEAR/1 talks", "peace and talks")
    assert fires('"peace talks"~0', "peace talks")
    assert not fires('"peace talks"~0', "peace and talks")
    assert fires('"peace talks"~1', "peace and talks")
    assert fires('"peace talks resume"~2', "peace x talks y resume")
    assert not fires('"peace talks resume"~1', "peace x talks y resume")


_ISSUE_EMOJI = ["⚡️", "❗️", "‼️", "⚠️", "❤️", "☝️", "☝\ufe0e", "#️⃣"]  # 1️⃣ is the word 1


@pytest.mark.parametrize(
    ("query", "text", "hit"),
    [
        ("breaking", "⚡️BREAKING: ceasefire agreed", True),
        ("зеленський", "❗️Зеленський: енергетичне перемир'я", True),
        ('"peace talks"', "peace ⚡️ talks resume", True),
        ("1", "1️⃣ ceasefire", True),
        ("kyiv -breaking", "⚡️BREAKING: Kyiv", False),
        ("kyiv -breaking", "⚡️Kyiv", True),
    ],
)
def test_the_issue_9_posts(query: str, text: str, hit: bool) -> None:
    assert fires(query, text) is hit


@pytest.mark.parametrize("emoji", _ISSUE_EMOJI)
def test_a_standalone_emoji_is_not_a_word_for_proximity(emoji: str) -> None:
    text = f"peace {emoji} talks {emoji} resume"
    assert fires("peace NEAR/0 talks", text)
    assert fires('"peace talks"', text)
    assert fires('"peace resume"~1', text)  # only `talks` is between
    assert not fires('"peace resume"~0', text)
    assert fires("resume NEAR/1 peace", text)
    assert not fires("resume NEAR/0 peace", text)


def test_highlights_of_decorated_words_leave_the_emoji_out() -> None:
    assert _marked("⚡️BREAKING: Kyiv", ["breaking"]) == "⚡️[BREAKING]: Kyiv"
    assert _marked("1️⃣ ceasefire", ["1"]) == "[1️⃣] ceasefire"


def test_a_not_only_branch_inside_an_and_narrows_its_positive_term() -> None:
    query = "ceasefire AND (truce OR NOT war)"
    assert fires(query, "ceasefire agreed")
    assert fires(query, "ceasefire and truce, the war goes on")
    assert not fires(query, "ceasefire, the war goes on")
    assert not fires(query, "truce agreed")


def test_an_author_phrase_needs_its_words_in_order_next_to_each_other() -> None:
    query = 'ceasefire author:"Donald Trump"'
    assert fires(query, "Ceasefire!", author="Donald Trump Jr.")
    assert not fires(query, "Ceasefire!", author="Donald J. Trump")
    assert not fires(query, "Ceasefire!", author="Trump, Donald")
    assert fires("ceasefire author:trump author:donald", "Ceasefire!", author="Trump, Donald")


def test_exclusions() -> None:
    watchlist = compile_topics(ukraine="ceasefire -Gaza", gaza="ceasefire Gaza")
    assert matched(watchlist, post("Ceasefire talks on Ukraine")) == {"ukraine": ("ceasefire",)}
    assert matched(watchlist, post("Ceasefire in Gaza holds")) == {"gaza": ("ceasefire", "Gaza")}


def test_fields() -> None:
    trump = post("Ceasefire!", author="Donald J. Trump (@realDonaldTrump)", source_id="trump-truth")
    assert fires("ceasefire author:realDonaldTrump", trump.text, author=trump.author or "")
    assert fires("author:trump", trump.text, author=trump.author or "")
    assert fires('author:"donald j"', trump.text, author=trump.author or "")
    assert not fires("author:donald*", "Ceasefire!", author="Melania Trump")
    assert not fires("ceasefire author:trump", "Ceasefire!")  # no author: no match

    watchlist = compile_topics(
        truth="ceasefire source:trump-*",
        exact="ceasefire source:Trump-Truth",
        social="ceasefire -kind:rss",
        kind_only="kind:telegram",
    )
    assert set(matched(watchlist, trump, "mastodon")) == {"truth", "exact", "social"}
    assert set(matched(watchlist, trump, "rss")) == {"truth", "exact"}
    assert set(matched(watchlist, post("anything"), "telegram")) == {"kind_only"}
    # Field filters are not words to highlight.
    assert matched(watchlist, trump, "mastodon")["truth"] == ("ceasefire",)


def test_language_from_the_source_else_detected_when_sure() -> None:
    watchlist = compile_topics(uk="перемир* lang:uk", en="ceasefire lang:en", ru="перемир* lang:ru")
    assert set(matched(watchlist, post(ZELENSKY))) == {"uk"}  # guessed: і, ї, є, ґ
    assert set(matched(watchlist, post("Россия объявила перемирие"))) == {"ru"}  # ы, э, ъ, ё
    assert set(matched(watchlist, post("перемирие", lang="uk-UA"))) == {"uk"}  # declared wins
    assert set(matched(watchlist, post("Ceasefire", lang="en_GB"))) == {"en"}
    assert matched(watchlist, post("Ceasefire")) == {}  # one word: unknown, not a guess
    english = "Both sides agreed to a ceasefire on energy infrastructure starting tonight."
    assert set(matched(watchlist, post(english))) == {"en"}  # detected (bot.classify.lang)
    french = "Les deux camps ont accepté un ceasefire sur les infrastructures énergétiques."
    assert matched(watchlist, post(french)) == {}

    def always_english(text: str) -> str | None:
        return "en"

    custom, _ = Watchlist.compile(
        [TopicConfig("en", "en", "ceasefire lang:en")], detect_lang=always_english
    )
    assert set(matched(custom, post("Ceasefire"))) == {"en"}
    unknown, _ = Watchlist.compile([TopicConfig("uk", "uk", "перемир* lang:uk")], detect_lang=None)
    assert matched(unknown, post(ZELENSKY)) == {}
    assert set(matched(unknown, post(ZELENSKY, lang="uk"))) == {"uk"}


def test_reported_terms_are_as_written_once_each_in_query_order_and_only_positive() -> None:
    watchlist = compile_topics(
        t='(Putin OR "cease-fire" OR перемири*) AND NOT Gaza AND (Ukraine OR peace)',
        u="ceasefire OR (truce AND missing)",
    )
    got = matched(watchlist, post("Ukraine: cease fire. Putin, перемирие, Putin again. Truce"))
    assert got == {"t": ("Putin", '"cease-fire"', "перемири*", "Ukraine")}
    # A term on a branch that did not hold is not reported.
    assert matched(watchlist, post("ceasefire and a truce")) == {"u": ("ceasefire",)}


def test_a_broken_topic_is_reported_and_the_rest_keep_matching() -> None:
    topics = [
        TopicConfig("good", "Good", CEASEFIRE),
        TopicConfig("bad", "Bad", "(ceasefire OR truce AND Ukraine"),
        TopicConfig("negative", "Negative", "NOT Gaza"),
        TopicConfig("energy", "Energy", '"energy infrastructure"~2'),
    ]
    watchlist, problems = Watchlist.compile(topics)
    assert [(p.topic_id, p.error.message, p.error.column) for p in problems] == [
        ("bad", "unbalanced parenthesis", 1),
        ("negative", "a query made only of NOT terms would match almost every post", 1),
    ]
    assert all(isinstance(p.error, QueryError) for p in problems)
    assert watchlist.topic_ids == ("good", "energy")
    assert [m.topic_id for m in watchlist.match(post(TRUTH), "mastodon")] == ["good", "energy"]


def test_matches_come_back_in_watchlist_order_as_topic_matches() -> None:
    watchlist = compile_topics(z="Ukraine", a="Putin", m="war")
    assert watchlist.match(post(TRUTH), "rss") == [
        TopicMatch("z", ("Ukraine",)),
        TopicMatch("a", ("Putin",)),
        TopicMatch("m", ("war",)),
    ]
    assert compile_topics().match(post(TRUTH), "rss") == []


def _marked(text: str, terms: Sequence[str]) -> str:
    out, last = [], 0
    for start, end in highlight_spans(text, terms):
        out += [text[last:start], "[", text[start:end], "]"]
        last = end
    return "".join([*out, text[last:]])


def test_highlight_spans_point_into_the_original_text() -> None:
    text = "BREAKING: #Ceasefire — the cease-fire (Cease Fire) in Україні; Putin’s перемир'я"
    terms = ("ceasefire", '"cease-fire"', "Україн*", "Putin", "перемир*")
    assert _marked(text, terms) == (
        "BREAKING: #[Ceasefire] — the [cease-fire] ([Cease Fire]) in [Україні]; [Putin]’s "
        "[перемир]'я"
    )
    spans = highlight_spans(text, terms)
    assert spans == sorted(spans)


def test_highlight_spans_merge_overlaps_and_skip_what_does_not_parse() -> None:
    text = "energy infrastructure strikes"
    terms = ("energy", '"energy infrastructure"', "infrastructure", "(unbalanced", "NOT x")
    assert highlight_spans(text, terms) == [(0, 21)]
    assert "on all [Energy and Infrastructure], with" in _marked(
        TRUTH, ['"energy infrastructure"~2']
    )
    assert highlight_spans(text, []) == []


# --- Property: the compiled watchlist agrees with a brute-force reference evaluator --------
# The reference below reads the AST directly and tries every combination of positions; it
# shares nothing with bot.classify.evaluate or bot.classify.watchlist but the tokeniser.


def _fits(word: Word, token: str) -> bool:
    return token.startswith(word.text) if word.prefix else token == word.text


def _ref_spans(
    segments: list[list[str]], words: tuple[Word, ...], slop: int
) -> list[tuple[int, int, int]]:
    spans = []
    for seg, tokens in enumerate(segments):
        for combo in itertools.combinations(range(len(tokens)), len(words)):
            inserted = combo[-1] - combo[0] - (len(words) - 1)
            if inserted <= slop and all(
                _fits(w, tokens[i]) for w, i in zip(words, combo, strict=True)
            ):
                spans.append((seg, combo[0], combo[-1]))
    return spans


class Reference:
    def __init__(self, p: Post, kind: str) -> None:
        self.post, self.kind = p, kind
        self.segments = [[t.text for t in tokenize(s)] for s in (p.title, p.text) if s]
        self.author = [[t.text for t in tokenize(p.author)]] if p.author else []

    def lang(self) -> str | None:
        if self.post.lang:
            return re.split("[-_]", self.post.lang)[0].lower()
        return detect_language(self.text)

    @property
    def text(self) -> str:
        return " ".join(s for s in (self.post.title, self.post.text) if s)

    def holds(self, q: Query) -> bool:
        if isinstance(q, Term):
            return bool(_ref_spans(self.segments, q.words, q.slop))
        if isinstance(q, Near):
            left = _ref_spans(self.segments, q.left.words, q.left.slop)
            right = _ref_spans(self.segments, q.right.words, q.right.slop)
            return any(
                ls == rs and (0 <= rf - ll - 1 <= q.distance or 0 <= lf - rl - 1 <= q.distance)
                for ls, lf, ll in left
                for rs, rf, rl in right
            )
        if isinstance(q, Filter):
            if q.name == "author":
                return bool(_ref_spans(self.author, q.words, 0))
            if q.name == "source":
                source = normalize(self.post.source_id)
                return source.startswith(q.value) if q.prefix else source == q.value
            if q.name == "kind":
                return self.kind == q.value
            # Undeclared: a text without the letters of the language is not in it
            # (bot.classify.lang).
            written = bool(self.post.lang) or could_be(self.text, q.value)
            return written and self.lang() == q.value
        if isinstance(q, Not):
            return not self.holds(q.operand)
        results = [self.holds(op) for op in q.operands]
        return all(results) if isinstance(q, And) else any(results)

    def terms(self, q: Query) -> list[str]:
        if not self.holds(q) or isinstance(q, Not | Filter):
            return []
        if isinstance(q, Term):
            return [q.raw]
        if isinstance(q, Near):
            return [q.left.raw, q.right.raw]
        return [term for op in q.operands for term in self.terms(op)]


_VOCABULARY = (
    "war warning peace cease fire ceasefire Ukraine Kyiv перемирие перемирия Україна енергетики "
    "energy grid"
).split()
_PREFIXES = ["war*", "cease*", "перемири*", "ener*", "укр*", "енерг*"]
_FIELDS = "kind:rss kind:telegram source:src-a source:src* lang:uk lang:en author:alice author:ali*"


def _leaf() -> st.SearchStrategy[str]:
    word = st.sampled_from(_VOCABULARY)
    pattern = st.one_of(word, st.sampled_from(_PREFIXES))
    phrase = st.lists(pattern, min_size=2, max_size=3).map(" ".join)
    return st.one_of(
        word.map(lambda w: w.upper() if len(w) % 2 else w),
        st.sampled_from(_PREFIXES),
        st.builds(lambda p, n: f'"{p}"' + (f"~{n}" if n else ""), phrase, st.integers(0, 3)),
        st.just("cease-fire"),
        st.builds(lambda a, d, b: f"{a} NEAR/{d} {b}", pattern, st.integers(0, 3), pattern),
        st.sampled_from(_FIELDS.split()),
    )


def _queries() -> st.SearchStrategy[Query]:
    return st.recursive(
        _leaf().map(parse_query),
        lambda inner: st.one_of(
            st.lists(inner, min_size=2, max_size=3).map(lambda ops: And(tuple(ops))),
            st.lists(inner, min_size=2, max_size=3).map(lambda ops: Or(tuple(ops))),
            st.tuples(inner, inner.map(Not)).map(And),  # an exclusion: `a -b`
        ),
        max_leaves=5,
    )


def _topics() -> st.SearchStrategy[list[Query]]:
    # Now and then a topic that is only a NOT, which must come back as a problem.
    one = st.builds(lambda q, negate: Not(q) if negate == 0 else q, _queries(), st.integers(0, 4))
    return st.lists(one, min_size=1, max_size=5)


def _texts() -> st.SearchStrategy[str]:
    separator = st.sampled_from([" ", " ", "-", "–", ", ", " #", " @", "’", "'", " 🔥", "\n", ". "])
    word = st.sampled_from(_VOCABULARY).map(str.upper) | st.sampled_from(_VOCABULARY)
    return st.lists(st.tuples(word, separator), max_size=12).map(
        lambda pairs: "".join(w + s for w, s in pairs)
    )


_POSTS = st.builds(
    lambda text, title, author, source, lang: Post(
        source, "1", text, author=author, title=title, lang=lang
    ),
    _texts(),
    st.none() | _texts(),
    st.sampled_from([None, "Alice Smith", "@alice@example.social", "Bob"]),
    st.sampled_from(["src-a", "src-b"]),
    st.sampled_from([None, "en", "uk", "en-US"]),
)


@settings(max_examples=300, deadline=None)
@given(
    _topics(),
    st.lists(_POSTS, min_size=1, max_size=3),
    st.sampled_from(["rss", "telegram"]),
)
def test_compiled_watchlist_agrees_with_the_reference(
    queries: list[Query], posts: list[Post], kind: str
) -> None:
    topics = [TopicConfig(f"t{i}", "", format_query(q)) for i, q in enumerate(queries)]
    watchlist, problems = Watchlist.compile(topics)
    broken = {p.topic_id for p in problems}
    for p in posts:
        ref = Reference(p, kind)
        expected = [
            TopicMatch(topic.id, tuple(dict.fromkeys(ref.terms(q))))
            for topic, q in zip(topics, queries, strict=True)
            if topic.id not in broken and ref.holds(q)
        ]
        assert watchlist.match(p, kind) == expected
    assert broken == {t.id for t, q in zip(topics, queries, strict=True) if isinstance(q, Not)}


_CHUNK_TEXT = st.text(
    st.sampled_from(
        list("aZß Σσς İé ё й\u0301\u0308\u200d\u00ad\ufe0f\u20e3 1½ _#@-’ʼ か\u3099漢\t\n\u3000")
    )
    | st.sampled_from(list("\u2028\x1c\x85\xa0\u200b"))  # whitespace to str.split(), or not
    | st.characters(),
    max_size=40,
)


@settings(max_examples=1000, deadline=None)
@given(_CHUNK_TEXT)
def test_words_through_the_chunk_memo_are_the_tokenisers_words(text: str) -> None:
    # PostView folds whitespace-separated chunks and remembers them: that must be `words`.
    assert post_words(text) == words(text)
    assert post_words(text) == words(text)  # the second time from the memo
