"""Match posts against every topic at once. Pure: no I/O, no clock.

A post is tokenised once into folded words (bot.classify.text). Matching is on whole words, so
instead of scanning the text for every pattern the watchlist looks the post's distinct words up in
one dict of *trigger keys* → topics (plus word prefixes for `*` terms, answered through a bounded
memo). Only the topics a key points at are candidates, and only their boolean queries are evaluated
(bot.classify.evaluate, the same code a single topic uses on its own).

Each topic registers one *anchor* set: keys such that the query can only be true if one of them
is in the post (an OR needs all its operands' anchors, an AND the cheapest operand's, a NOT has
none, which is why bot.classify.query rejects queries that are only NOTs). So cost per post
depends on the post's length and on the topics it may match, not on the size of the watchlist: in
bench/bench_classify.py 10,000 topics run at about 0.6x the rate of 10 (0.58-0.86 over runs on a
busy machine, issue 12), some 350-470x a loop over all topics; folding the words is the floor.

Why words and not pyahocorasick over the text: an automaton needs the whole post folded first
(as costly as tokenising it) and a Python-level word-boundary check per hit; on the benchmark's
posts it ran at 22-30k posts/s against 35-48k for tokenising plus dict lookups (same run, 10 and
10,000 topics' words). Words also make `cease-fire` = "cease fire" and prefixes free.

Compiled once, never changed: rebuilding means compiling a new Watchlist and swapping references.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain

from bot.classify.evaluate import DetectLang, PostView, QueryMatcher, occurrences
from bot.classify.lang import detect_language
from bot.classify.query import And, Filter, Near, Not, Or, Query, Term, Word, parse_query
from bot.classify.text import tokenize
from bot.errors import QueryError
from bot.model import Post, TopicConfig, TopicMatch

# Key namespaces: text words are bare; control characters never occur inside a folded word.
_AUTHOR, _SOURCE, _KIND, _LANG = "\x01", "\x02", "\x03", "\x04"
_CACHE_LIMIT = 1 << 17  # distinct words remembered (tens of MB at most), then cleared


@dataclass(frozen=True, slots=True)
class TopicProblem:
    topic_id: str
    error: QueryError


class _TriggerIndex(dict[str, tuple[int, ...]]):
    """Key → candidate topic indexes, filled on first sight of a key: exact plus prefix hits.

    A memo of a pure function of the compiled index: clearing it never changes an answer.
    """

    def __init__(self, exact: dict[str, list[int]], prefixes: dict[str, list[int]]) -> None:
        super().__init__()
        self.exact = exact
        self.prefixes = prefixes
        self.prefix_lengths = sorted({len(p) for p in prefixes})

    def __missing__(self, key: str) -> tuple[int, ...]:
        hits = set(self.exact.get(key, ()))
        for length in self.prefix_lengths:
            if length > len(key):
                break
            hits.update(self.prefixes.get(key[:length], ()))
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        found = self[key] = tuple(sorted(hits))
        return found


class Watchlist:
    """Every topic compiled into one trigger index. Immutable once compiled (its memo of word
    lookups aside); to change topics, compile a new one and swap the reference."""

    __slots__ = (
        "_detect",
        "_fixed",
        "_ids",
        "_index",
        "_keyed_fields",
        "_matchers",
        "_terms",
        "_tests",
    )

    def __init__(
        self,
        topics: list[tuple[str, QueryMatcher]],
        anchors: list[list[Word]],
        detect_lang: DetectLang | None,
    ) -> None:
        exact: dict[str, list[int]] = {}
        prefixes: dict[str, list[int]] = {}
        for i, keys in enumerate(anchors):
            for key in keys:
                (prefixes if key.prefix else exact).setdefault(key.text, []).append(i)
        self._ids = tuple(topic_id for topic_id, _ in topics)
        self._matchers = tuple(matcher for _, matcher in topics)
        self._tests = tuple(matcher.test for matcher in self._matchers)
        self._terms = tuple(matcher.terms for matcher in self._matchers)
        # A topic whose terms never depend on the post answers with one shared (frozen) match.
        self._fixed = tuple(
            None if m.fixed_terms is None else TopicMatch(i, m.fixed_terms) for i, m in topics
        )
        self._index = _TriggerIndex(exact, prefixes)
        self._detect = detect_lang
        every_key = chain(exact, prefixes)
        self._keyed_fields = frozenset(k[0] for k in every_key if k[0] < " ")

    @classmethod
    def compile(
        cls, topics: Sequence[TopicConfig], *, detect_lang: DetectLang | None = detect_language
    ) -> tuple[Watchlist, list[TopicProblem]]:
        """Compile every topic that parses; the others come back as problems, not exceptions.

        `detect_lang` answers `lang:` for posts whose source declares no language.
        """
        compiled: list[tuple[str, QueryMatcher]] = []
        anchors: list[list[Word]] = []
        problems: list[TopicProblem] = []
        for topic in topics:
            try:
                query = parse_query(topic.query)
            except QueryError as exc:
                problems.append(TopicProblem(topic.id, exc))
                continue
            keys = _anchors(query)
            assert keys is not None  # parse_query rejects queries without anchors
            compiled.append((topic.id, QueryMatcher(query)))
            anchors.append(keys)
        return cls(compiled, anchors, detect_lang), problems

    @property
    def topic_ids(self) -> tuple[str, ...]:
        return self._ids

    def match(self, post: Post, source_kind: str) -> list[TopicMatch]:
        """Topics whose query `post` satisfies, in watchlist order, with the terms that fired."""
        view = PostView(post, source_kind, self._detect)
        index = self._index
        found = set(chain.from_iterable(map(index.__getitem__, view.words)))
        if self._keyed_fields:
            found.update(chain.from_iterable(map(index.__getitem__, self._field_keys(view))))
        tests, fixed, ids, terms = self._tests, self._fixed, self._ids, self._terms
        return [
            fixed[i] or TopicMatch(ids[i], terms[i](view)) for i in sorted(found) if tests[i](view)
        ]

    def _field_keys(self, view: PostView) -> Iterator[str]:
        fields = self._keyed_fields
        if _AUTHOR in fields:
            yield from (_AUTHOR + w for w in chain.from_iterable(view.authors()))
        if _SOURCE in fields:
            yield _SOURCE + view.source
        if _KIND in fields:
            yield _KIND + view.kind
        if _LANG in fields and (lang := view.lang()) is not None:
            yield _LANG + lang


def _anchors(query: Query) -> list[Word] | None:
    """Trigger keys (as Words: text + prefix flag) one of which every match must contain."""
    if isinstance(query, Term | Near | Filter):
        return [_leaf_anchor(query)]
    if isinstance(query, Not):
        return None
    children = [_anchors(op) for op in query.operands]
    if isinstance(query, Or):
        return None if None in children else [k for keys in children if keys for k in keys]
    return min((keys for keys in children if keys is not None), key=_cost, default=None)


def _leaf_anchor(leaf: Term | Near | Filter) -> Word:
    if isinstance(leaf, Term):
        return _rarest(leaf.words, "")
    if isinstance(leaf, Near):  # both sides must be present: the rarer word of either will do
        return _rarest(leaf.left.words + leaf.right.words, "")
    if leaf.name == "author":
        return _rarest(leaf.words, _AUTHOR)
    namespace = {"source": _SOURCE, "kind": _KIND, "lang": _LANG}[leaf.name]
    return Word(namespace + leaf.value, leaf.prefix)


def _rarest(pattern: tuple[Word, ...], namespace: str) -> Word:
    best = min(pattern, key=lambda w: _cost([w]))
    return Word(namespace + best.text, best.prefix)


def _cost(keys: list[Word]) -> float:
    """Guessed share of posts a key set fires on: longer words are rarer, prefixes and field
    values (every post has a kind) far more common. Only picks an AND's anchor operand."""
    total = 0.0
    for key in keys:
        if key.text[0] < " ":
            total += {_AUTHOR: 4.0, _SOURCE: 8.0, _KIND: 16.0, _LANG: 16.0}[key.text[0]]
        else:
            total += (3.0 if key.prefix else 1.0) + 4.0 / len(key.text)
    return total


def highlight_spans(text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """[start, end) offsets (str indexes) in `text` of the words and phrases that `terms`
    (as TopicMatch reports them) match; sorted, overlaps merged. Unparsable terms are skipped."""
    tokens = tokenize(text)
    folded = [t.text for t in tokens]
    spans: list[tuple[int, int]] = []
    for raw in terms:
        try:
            query = parse_query(raw)
        except QueryError:
            continue  # a term stored by an older version of the grammar: just not bolded
        for term in _positive_terms(query):
            for first, last in occurrences(folded, term.words, term.slop):
                spans.append((tokens[first].start, tokens[last].end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _positive_terms(query: Query) -> Iterator[Term]:
    if isinstance(query, Term):
        yield query
    elif isinstance(query, Near):
        yield from (query.left, query.right)
    elif isinstance(query, And | Or):
        for op in query.operands:
            yield from _positive_terms(op)
