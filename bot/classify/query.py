"""The topic query language: text → AST (frozen dataclasses). Pure; raises QueryError.

    query    := or
    or       := and ("OR" and)*
    and      := unary (["AND"] unary)*              adjacent terms mean AND
    unary    := ("NOT" | "-") unary | near           -Gaza is NOT Gaza
    near     := primary ["NEAR/" n primary]          either order, at most n words between
    primary  := "(" or ")" | phrase ["~" n] | field ":" value | word

Precedence is NEAR > NOT > AND > OR; parentheses and NOTs nest at most MAX_DEPTH deep.
Operators are ASCII upper-case (`and`, `or` and full-width `ＡＮＤ` are ordinary words). A word
or phrase matches whole folded words (see bot.classify.text): `war` never matches "warning", and
a word ending in `*` matches every word starting with it (`перемири*`). `cease-fire` is two
words and matches "cease-fire", "cease fire" and "cease–fire". A term that folds to no word
(`!!!`, an emoji, a lone combining mark) is refused. Phrases use straight or typographic quotes
(" “ ” „ « »); `"a b"~n` lets at most n other words in between in all, in order, as
`a NEAR/n b` allows n words between, in either order (0: adjacent).
Fields: `author:NAME` (the author's name contains the word, or the words of a quoted or
hyphenated value as a phrase), `source:ID` (source id, `*` suffix allowed),
`kind:rss|mastodon|bluesky|telegram`, `lang:xx` (primary subtag of the language the source
declares; otherwise the watchlist's detector decides, by default
bot.classify.lang.detect_language: unknown when unsure).
A query must be *anchored*, or it would match almost every post: a positive term (word,
phrase, NEAR, field) is anchored, an AND when one of its operands is, an OR when all its
branches are, a NOT never (not even NOT NOT x). So `NOT x` and `a OR NOT b` are refused, and
`ceasefire AND (truce OR NOT war)` is accepted: every match contains `ceasefire`. The watchlist
indexes each topic by its anchors (bot.classify.watchlist).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.classify.lexer import Lexeme, lex
from bot.classify.text import normalize, tokenize
from bot.errors import QueryError
from bot.model import SOURCE_KINDS

MAX_DEPTH = 32  # nested parentheses / NOTs; keeps the recursive parser far from Python's limit
MIN_PREFIX = 2  # `u*` would match a large share of all words
_LANG = re.compile(r"([a-z]{2,3})(?:[-_][a-z0-9]+)*\Z")


@dataclass(frozen=True, slots=True)
class Word:
    text: str  # folded (bot.classify.text.normalize)
    prefix: bool = False  # written with a trailing `*`


@dataclass(frozen=True, slots=True)
class Term:
    """A word, a multi-word term (`cease-fire`) or a phrase; `raw` is exactly as written."""

    raw: str
    words: tuple[Word, ...]
    slop: int = 0  # `"a b"~n`: other words allowed between the words, in order
    column: int = field(default=1, compare=False)


@dataclass(frozen=True, slots=True)
class Near:
    left: Term
    right: Term
    distance: int  # at most this many words between the two, in either order
    column: int = field(default=1, compare=False)


@dataclass(frozen=True, slots=True)
class Filter:
    name: str  # one of FIELDS
    value: str  # folded: source id (without `*`), kind, or primary language subtag
    raw: str
    words: tuple[Word, ...] = ()  # author: the words to find in the author name
    prefix: bool = False  # source: `source:trump-*`
    column: int = field(default=1, compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    operand: Query
    column: int = field(default=1, compare=False)


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Query, ...]
    column: int = field(default=1, compare=False)


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Query, ...]
    column: int = field(default=1, compare=False)


Query = Term | Near | Filter | Not | And | Or


def parse_query(text: str) -> Query:
    """Parse a topic query; raise QueryError(message, 1-based column) on the first problem."""
    parser = _Parser(lex(text))
    query = parser.parse()
    culprit = _unanchored(query)
    if culprit is not None:
        if _has_positive(query):
            message = "NOT on one side of OR would match almost every post; AND it with a term"
        else:
            message = "a query made only of NOT terms would match almost every post"
        raise QueryError(message, culprit.column)
    return query


def format_query(query: Query) -> str:
    """Canonical text for a query; parse_query(format_query(q)) == q."""
    if isinstance(query, Term | Filter):
        return query.raw
    if isinstance(query, Near):
        return f"{query.left.raw} NEAR/{query.distance} {query.right.raw}"
    if isinstance(query, Not):
        inner = format_query(query.operand)
        return f"NOT ({inner})" if isinstance(query.operand, And | Or) else f"NOT {inner}"
    wrap = (And, Or)  # AND inside OR needs no parentheses, but they make the grouping plain
    parts = [
        f"({format_query(op)})" if isinstance(op, wrap) else format_query(op)
        for op in query.operands
    ]
    return (" AND " if isinstance(query, And) else " OR ").join(parts)


class _Parser:
    def __init__(self, lexemes: list[Lexeme]) -> None:
        self.lexemes = lexemes
        self.pos = 0
        self.depth = 0

    def peek(self) -> Lexeme | None:
        return self.lexemes[self.pos] if self.pos < len(self.lexemes) else None

    def parse(self) -> Query:
        if not self.lexemes:
            raise QueryError("empty query", 1)
        query = self.parse_or()
        extra = self.peek()
        if extra is not None:  # only a stray `)` stops parse_or early
            raise QueryError("unbalanced parenthesis", extra.column)
        return query

    def parse_or(self) -> Query:
        first = self.peek()
        operands = [self.parse_and()]
        while (lex := self.peek()) is not None and lex.kind == "OR":
            self.pos += 1
            self.expect_operand(lex)
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands), _col(first))

    def parse_and(self) -> Query:
        first = self.peek()
        operands = [self.parse_unary()]
        while (lex := self.peek()) is not None and lex.kind not in ("OR", ")"):
            if lex.kind == "AND":
                self.pos += 1
                self.expect_operand(lex)
            operands.append(self.parse_unary())
        return operands[0] if len(operands) == 1 else And(tuple(operands), _col(first))

    def parse_unary(self) -> Query:
        lex = self.peek()
        if lex is None or lex.kind != "NOT":
            return self.parse_near()
        self.pos += 1
        self.expect_operand(lex)
        self.enter(lex)
        operand = self.parse_unary()
        self.depth -= 1
        return Not(operand, lex.column)

    def parse_near(self) -> Query:
        left = self.parse_primary()
        lex = self.peek()
        if lex is None or lex.kind != "NEAR":
            return left
        self.pos += 1
        self.expect_operand(lex)
        right = self.parse_primary()
        if not isinstance(left, Term) or not isinstance(right, Term):
            raise QueryError("bad proximity: NEAR joins two words or phrases", lex.column)
        after = self.peek()
        if after is not None and after.kind == "NEAR":
            raise QueryError("bad proximity: NEAR joins only two words or phrases", after.column)
        return Near(left, right, lex.number, lex.column)

    def parse_primary(self) -> Query:
        lex = self.peek()
        assert lex is not None  # callers check with expect_operand or a loop condition
        self.pos += 1
        if lex.kind == "(":
            closing = self.peek()
            if closing is None:  # `a AND (` ends right after the parenthesis
                raise QueryError("unbalanced parenthesis", lex.column)
            if closing.kind == ")":
                raise QueryError("empty parentheses", lex.column)
            self.enter(lex)
            inner = self.parse_or()
            self.depth -= 1
            closing = self.peek()
            if closing is None or closing.kind != ")":
                raise QueryError("unbalanced parenthesis", lex.column)
            self.pos += 1
            return inner
        if lex.kind == "WORD":
            return _term(lex.text, lex.text, lex.column, lex.column)
        if lex.kind == "PHRASE":
            return _term(lex.inner, lex.text, lex.column, lex.inner_column, lex.number)
        if lex.kind == "FIELD":
            return _filter(lex)
        if lex.kind == ")":
            raise QueryError("unbalanced parenthesis", lex.column)
        raise QueryError(f"missing term before {lex.text}", lex.column)

    def expect_operand(self, operator: Lexeme) -> None:
        lex = self.peek()
        if lex is None or lex.kind in ("AND", "OR", "NEAR", ")"):
            raise QueryError(f"missing term after {operator.text}", operator.column)

    def enter(self, lex: Lexeme) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QueryError(f"nested more than {MAX_DEPTH} levels deep", lex.column)


def _col(lex: Lexeme | None) -> int:
    return lex.column if lex is not None else 1


def _words(text: str, column: int) -> tuple[Word, ...]:
    """Fold `text` into words; a `*` right after a word makes it a prefix."""
    tokens = tokenize(text)
    ends, starts = {t.end for t in tokens}, {t.start for t in tokens}
    stars = {i for i, c in enumerate(text) if c == "*"}
    for i in sorted(stars):
        if i not in ends or i + 1 in starts:
            raise QueryError("a wildcard '*' can only end a word", column + i)
    words = []
    for k, token in enumerate(tokens):
        last_of_run = k + 1 == len(tokens) or tokens[k + 1].start != token.start
        prefix = last_of_run and token.end in stars
        if prefix and len(token.text) < MIN_PREFIX:
            raise QueryError(
                f"a wildcard needs at least {MIN_PREFIX} letters before '*'", column + token.end
            )
        words.append(Word(token.text, prefix))
    return tuple(words)


def _term(text: str, raw: str, column: int, text_column: int, slop: int | None = None) -> Term:
    """A bare word (slop None) or a phrase, folded into words."""
    words = _words(text, text_column)
    if not words:
        message = f"'{raw}' has no letters or digits to search" if slop is None else "empty phrase"
        raise QueryError(message, column)
    if slop and len(words) < 2:
        raise QueryError("bad proximity: '~n' needs a phrase of two or more words", column)
    return Term(raw, words, slop or 0, column)


def _filter(lex: Lexeme) -> Filter:
    name = lex.text.split(":", 1)[0].lower()
    col = lex.inner_column
    if name == "author":
        words = _words(lex.inner, col)
        if not words:
            raise QueryError("author: needs letters or digits", col)
        return Filter(name, normalize(lex.inner), lex.text, words, column=lex.column)
    value = lex.inner.strip()
    if name == "source":
        prefix = value.endswith("*")
        ident = value.removesuffix("*")
        if not ident or "*" in ident:
            raise QueryError("source: takes a source id, optionally ending in '*'", col)
        return Filter(name, normalize(ident), lex.text, prefix=prefix, column=lex.column)
    folded = normalize(value)
    if name == "kind":
        if folded not in SOURCE_KINDS:
            raise QueryError(f"unknown kind '{value}' (kinds: {', '.join(SOURCE_KINDS)})", col)
        return Filter(name, folded, lex.text, column=lex.column)
    lang = _LANG.match(folded)
    if lang is None:
        raise QueryError("lang: takes a language code such as en or uk", col)
    return Filter(name, lang.group(1), lex.text, column=lex.column)


def _has_positive(query: Query) -> bool:
    if isinstance(query, Not):
        return False
    if isinstance(query, And | Or):
        return any(_has_positive(op) for op in query.operands)
    return True


def _unanchored(query: Query) -> Query | None:
    """The part that lets `query` match without any positive term, or None if there is none.

    A NOT is unanchored; an AND is anchored when any operand is; an OR when all operands are.
    """
    if isinstance(query, Not):
        return query
    if isinstance(query, And):
        culprits = [_unanchored(op) for op in query.operands]
        return None if None in culprits else culprits[0]
    if isinstance(query, Or):
        return next((c for op in query.operands if (c := _unanchored(op)) is not None), None)
    return None
