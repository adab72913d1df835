"""One query evaluated on one post: the post's words prepared once, the query compiled once.

Pure: no I/O, no clock. Semantics (bot.classify.query documents the grammar): a word matches a whole
folded word; a prefix matches words starting with it; a phrase matches its words in order with
at most `slop` other words inserted in total; `a NEAR/n b` matches when an occurrence of each,
not overlapping, has at most n words between them, in either order. Phrases and proximity never
span the title/text boundary. The terms reported for a match are the positive terms on the
branches that made it true, as written, each once, in query order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import chain

from bot.classify.lang import could_be, detect_language
from bot.classify.query import And, Filter, Near, Not, Query, Term, Word, parse_query
from bot.classify.text import normalize, words
from bot.model import Post

DetectLang = Callable[[str], str | None]
Span = tuple[int, int, int]  # segment, first word, last word (inclusive)
Test = Callable[["PostView"], bool]
Collect = Callable[["PostView", list[str]], None]


# Chunks remembered (a few tens of MB at most), then forgotten all at once.
_CHUNK_MEMO_LIMIT = 1 << 17


class _FoldedChunks(dict[str, tuple[str, ...]]):
    """Lower-cased, whitespace-separated chunk of a post ("ceasefire," "#ukraine") → its folded
    words. A word never holds whitespace and lower()'s one context rule (final sigma) stops at
    it, so the chunks' words in order are `words(text)` (tests/test_matcher.py checks this).
    Chunks are Zipfian: most are one C-level dict hit here instead of a regex scan and a lookup
    per run (issue 12). A memo of a pure function: clearing it never changes an answer."""

    def __missing__(self, chunk: str) -> tuple[str, ...]:
        if len(self) >= _CHUNK_MEMO_LIMIT:
            self.clear()
        found = self[chunk] = tuple(words(chunk))
        return found


_fold_chunk = _FoldedChunks().__getitem__


def post_words(text: str) -> list[str]:
    """`words(text)`, through the chunk memo."""
    return list(chain.from_iterable(map(_fold_chunk, text.lower().split())))


class PostView:
    """One post prepared for matching: its set of folded words (title and text), and on demand
    the words per segment (title, text) and its fields.

    Phrases and proximity never span the title/text boundary. Derived facts (segments, prefix
    hits, phrase positions, language) are computed on first use and memoised for the other
    topics: most posts never need more than the word set.
    """

    __slots__ = (
        "_authors",
        "_detect",
        "_joined",
        "_lang",
        "_lang_known",
        "_memo",
        "_post",
        "_segments",
        "_source",
        "kind",
        "words",
    )

    def __init__(
        self, post: Post, source_kind: str, detect_lang: DetectLang | None = detect_language
    ):
        title = post.title
        text = f"{title}\n{post.text}" if title else post.text
        self.words = set(chain.from_iterable(map(_fold_chunk, text.lower().split())))
        self.kind = source_kind
        self._post = post
        self._detect = detect_lang
        self._segments: tuple[list[str], ...] | None = None
        self._source: str | None = None
        self._authors: tuple[list[str], ...] | None = None
        self._lang: str | None = None
        self._lang_known = False
        self._joined: str | None = None
        self._memo: dict[tuple[tuple[Word, ...], int, bool], list[Span]] = {}

    @property
    def segments(self) -> tuple[list[str], ...]:
        """Folded words of the title and of the text (the ones present, in that order)."""
        if self._segments is None:
            post = self._post
            self._segments = tuple(post_words(t) for t in (post.title, post.text) if t)
        return self._segments

    @property
    def source(self) -> str:
        if self._source is None:
            self._source = normalize(self._post.source_id)
        return self._source

    def authors(self) -> tuple[list[str], ...]:
        if self._authors is None:
            author = self._post.author
            self._authors = (post_words(author),) if author else ()
        return self._authors

    def lang(self) -> str | None:
        """Primary language subtag as the source declared it, else as `detect_lang` guesses."""
        if not self._lang_known:
            post = self._post
            if post.lang:
                self._lang = post.lang.replace("_", "-").split("-", 1)[0].casefold()
            elif self._detect is not None:
                self._lang = self._detect(" ".join(filter(None, (post.title, post.text))))
            self._lang_known = True
        return self._lang

    def is_lang(self, code: str) -> bool:
        """`lang() == code`, without running the detector when the text lacks the letters
        `code` is written in (an English post is never Ukrainian): most `lang:` tests end here."""
        post = self._post
        undeclared = not self._lang_known and not post.lang
        if undeclared and not could_be(" ".join(filter(None, (post.title, post.text))), code):
            return False
        return self.lang() == code

    def has_prefix(self, prefix: str) -> bool:
        # Every word behind a newline, which no word holds: one substring search in C, cheaper
        # than sorting the words for a bisection.
        if self._joined is None:
            self._joined = "\n" + "\n".join(self.words)
        return "\n" + prefix in self._joined

    def has(self, word: Word) -> bool:
        return self.has_prefix(word.text) if word.prefix else word.text in self.words

    def spans(self, pattern: tuple[Word, ...], slop: int, author: bool = False) -> list[Span]:
        key = (pattern, slop, author)
        found = self._memo.get(key)
        if found is None:
            segments = self.authors() if author else self.segments
            found = [
                (n, first, last)
                for n, tokens in enumerate(segments)
                for first, last in occurrences(tokens, pattern, slop)
            ]
            self._memo[key] = found
        return found


def occurrences(
    tokens: Sequence[str], pattern: tuple[Word, ...], slop: int
) -> Iterator[tuple[int, int]]:
    """(first, last) word index of each match of `pattern`, in order, at most `slop` words
    inserted in total; one per first word, the shortest (earliest next word is optimal)."""
    budget = len(pattern) - 1 + slop
    for i, token in enumerate(tokens):
        if not _fits(pattern[0], token):
            continue
        pos, limit = i, min(i + budget, len(tokens) - 1)
        for word in pattern[1:]:
            pos += 1
            while pos <= limit and not _fits(word, tokens[pos]):
                pos += 1
            if pos > limit:
                break
        else:
            yield i, pos


def _fits(word: Word, token: str) -> bool:
    return token.startswith(word.text) if word.prefix else token == word.text


def _near(left: list[Span], right: list[Span], distance: int) -> bool:
    """Some left and right occurrence in one segment, not overlapping, <= distance words apart."""
    for seg, l_first, l_last in left:
        for r_seg, r_first, r_last in right:
            if r_seg == seg and (
                0 <= r_first - l_last - 1 <= distance or 0 <= l_first - r_last - 1 <= distance
            ):
                return True
    return False


def _compile_term(term: Term) -> Test:
    pattern, slop = term.words, term.slop
    if len(pattern) == 1 and not pattern[0].prefix:
        text = pattern[0].text
        return lambda v: text in v.words
    if len(pattern) == 1:
        prefix = pattern[0].text
        return lambda v: v.has_prefix(prefix)
    if not any(w.prefix for w in pattern):  # every word present (in C) before any position
        plain = frozenset(w.text for w in pattern)
        return lambda v: plain <= v.words and bool(v.spans(pattern, slop))
    return lambda v: all(map(v.has, pattern)) and bool(v.spans(pattern, slop))


def _compile_filter(f: Filter) -> Test:
    value = f.value
    if f.name == "author":
        pattern = f.words
        return lambda v: bool(v.spans(pattern, 0, author=True))
    if f.name == "source":
        return (lambda v: v.source.startswith(value)) if f.prefix else (lambda v: v.source == value)
    if f.name == "kind":
        return lambda v: v.kind == value
    return lambda v: v.is_lang(value)


def _nothing(view: PostView, out: list[str]) -> None:
    return None


def compile_query(query: Query) -> tuple[Test, Collect]:
    """A test for `query`, and a collector of the terms that made it true (call only if true)."""
    if isinstance(query, Term):
        raw = query.raw
        return _compile_term(query), lambda v, out: out.append(raw)
    if isinstance(query, Near):
        left, right, distance = query.left, query.right, query.distance
        l_test, r_test = _compile_term(left), _compile_term(right)
        raws = (left.raw, right.raw)

        def near(v: PostView) -> bool:
            return (
                l_test(v)
                and r_test(v)
                and _near(
                    v.spans(left.words, left.slop), v.spans(right.words, right.slop), distance
                )
            )

        return near, lambda v, out: out.extend(raws)
    if isinstance(query, Filter):
        return _compile_filter(query), _nothing
    if isinstance(query, Not):
        inner, _ = compile_query(query.operand)
        return (lambda v: not inner(v)), _nothing
    parts = [compile_query(op) for op in query.operands]
    # Plain words of an AND/OR become one frozenset checked in C: far fewer objects touched per
    # candidate topic, which matters at 10,000 topics, where topics are cold in the CPU cache.
    plain = frozenset(w for op in query.operands if (w := _plain_word(op)) is not None)
    rest = [t for op, (t, _) in zip(query.operands, parts, strict=True) if not _plain_word(op)]
    if isinstance(query, And):

        def collect_all(v: PostView, out: list[str]) -> None:
            for _, collect in parts:
                collect(v, out)

        return _all(plain, rest), collect_all

    terms = [op for op in query.operands if isinstance(op, Term)]
    pairs = [(term.raw, w) for term in terms if (w := _plain_word(term)) is not None]

    def collect_true(v: PostView, out: list[str]) -> None:
        if not rest:  # only plain words (`a OR b OR c`): the ones the post has, one listcomp
            out.extend([raw for raw, word in pairs if word in v.words])
            return
        for test, collect in parts:
            if test(v):
                collect(v, out)

    return _any(plain, rest), collect_true


def _plain_word(query: Query) -> str | None:
    if isinstance(query, Term) and len(query.words) == 1 and not query.words[0].prefix:
        return query.words[0].text
    return None


def _all(plain: frozenset[str], rest: list[Test]) -> Test:
    if len(rest) == 2:  # the common case, without a generator per call
        first, second = rest
        rest = [lambda v: first(v) and second(v)]
    elif len(rest) > 2:
        tests = rest
        rest = [lambda v: all(t(v) for t in tests)]
    if not rest:
        return lambda v: plain <= v.words
    (other,) = rest
    if not plain:
        return other
    return lambda v: plain <= v.words and other(v)


def _any(plain: frozenset[str], rest: list[Test]) -> Test:
    if len(rest) == 2:  # the common case, without a generator per call
        first, second = rest
        rest = [lambda v: first(v) or second(v)]
    elif len(rest) > 2:
        tests = rest
        rest = [lambda v: any(t(v) for t in tests)]
    if not rest:
        return lambda v: not plain.isdisjoint(v.words)
    (other,) = rest
    if not plain:
        return other
    return lambda v: not plain.isdisjoint(v.words) or other(v)


class QueryMatcher:
    """One topic's query, parsed once and compiled; usable alone (and by the naive baseline)."""

    __slots__ = ("_collect", "fixed_terms", "query", "test")

    def __init__(self, query: Query) -> None:
        self.query = query
        self.test, self._collect = compile_query(query)
        fixed = _fixed_terms(query)
        # The terms of every match, when they do not depend on the post (no OR decides them).
        self.fixed_terms = None if fixed is None else tuple(dict.fromkeys(fixed))

    @classmethod
    def parse(cls, text: str) -> QueryMatcher:
        return cls(parse_query(text))

    def terms(self, view: PostView) -> tuple[str, ...]:
        """The terms that made a true query true, as written, each once, in query order."""
        if self.fixed_terms is not None:
            return self.fixed_terms
        out: list[str] = []
        self._collect(view, out)
        return tuple(dict.fromkeys(out))

    def match(self, view: PostView) -> tuple[str, ...] | None:
        return self.terms(view) if self.test(view) else None


def _fixed_terms(query: Query) -> list[str] | None:
    """What `compile_query`'s collector reports for every post `query` is true on, or None
    when that depends on the post (an OR reports only its true operands' terms)."""
    if isinstance(query, Term):
        return [query.raw]
    if isinstance(query, Near):
        return [query.left.raw, query.right.raw]
    if isinstance(query, Filter | Not):
        return []
    if isinstance(query, And):
        parts = [_fixed_terms(op) for op in query.operands]
        return None if None in parts else [raw for part in parts if part for raw in part]
    return None
