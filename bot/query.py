"""The topic query language: text → AST (frozen dataclasses). Pure; raises QueryError.

    query    := or
    or       := and ("OR" and)*
    and      := unary (["AND"] unary)*              adjacent terms mean AND
    unary    := ("NOT" | "-") unary | near           -Gaza is NOT Gaza
    near     := primary ["NEAR/" n primary]          either order, at most n words between
    primary  := "(" or ")" | phrase ["~" n] | field ":" value | word

Precedence is NOT > AND > OR. Operators are upper-case (`and`, `or` are ordinary words). A word
or phrase matches whole folded words (see bot.text): `war` never matches "warning", and a word
ending in `*` matches every word starting with it (`перемири*`). `cease-fire` is two words and
matches "cease-fire", "cease fire" and "cease–fire". Phrases use straight or typographic quotes
(" “ ” „ « »); `"a b"~n` lets at most n other words in between, in order. Fields: `author:NAME`
(words of the post's author), `source:ID` (source id, `*` suffix allowed), `kind:rss|mastodon|
bluesky|telegram`, `lang:xx` (primary language subtag). A query must contain something positive
in every OR branch: "NOT x" alone would match almost every post.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.errors import QueryError
from bot.model import SOURCE_KINDS
from bot.text import normalize, tokenize

MAX_DISTANCE = 50  # beyond ~50 words proximity is no stronger than AND within one post
MAX_DEPTH = 32  # nested parentheses / NOTs; keeps the recursive parser far from Python's limit
MIN_PREFIX = 2  # `u*` would match a large share of all words
FIELDS = ("author", "source", "kind", "lang")
_QUOTES = '"“”„«»'
_NEAR = re.compile(r"NEAR/(\d+)\Z")
_FIELD = re.compile(r"([A-Za-z]+):(.*)\Z", re.DOTALL)
_LANG = re.compile(r"([a-z]{2,3})(?:[-_][a-z0-9]+)*\Z")


@dataclass(frozen=True, slots=True)
class Word:
    text: str  # folded (bot.text.normalize)
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


@dataclass(frozen=True, slots=True)
class _Lexeme:
    kind: str  # ( ) AND OR NOT NEAR WORD PHRASE FIELD
    text: str  # as written
    column: int
    number: int = 0  # NEAR distance, phrase slop
    inner: str = ""  # phrase content; field value
    inner_column: int = 0


def parse_query(text: str) -> Query:
    """Parse a topic query; raise QueryError(message, 1-based column) on the first problem."""
    parser = _Parser(text, _lex(text))
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


def _lex(text: str) -> list[_Lexeme]:
    out: list[_Lexeme] = []
    i, n = 0, len(text)
    while i < n:
        c, col = text[i], i + 1
        if c.isspace():
            i += 1
        elif c in "()":
            out.append(_Lexeme(c, c, col))
            i += 1
        elif c in _QUOTES:
            i = _lex_phrase(text, i, out)
        elif c in "-\u2212":  # ASCII hyphen-minus or the Unicode minus sign
            if i + 1 == n or text[i + 1].isspace() or text[i + 1] == ")":
                raise QueryError("expected a term after '-'", col)
            out.append(_Lexeme("NOT", c, col))
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in "()" + _QUOTES:
                j += 1
            i = _lex_word(text, i, j, out)
    return out


def _lex_phrase(text: str, i: int, out: list[_Lexeme]) -> int:
    end = next((j for j in range(i + 1, len(text)) if text[j] in _QUOTES), -1)
    if end < 0:
        raise QueryError("unterminated phrase: missing closing quote", i + 1)
    j, slop = end + 1, 0
    if j < len(text) and text[j] == "~":
        digits = re.match(r"\d+", text[j + 1 :])
        if digits is None:
            raise QueryError("bad proximity: expected a number of words after '~'", j + 1)
        slop = int(digits.group())
        if slop > MAX_DISTANCE:
            raise QueryError(f"bad proximity: at most {MAX_DISTANCE} words apart", j + 1)
        j += 1 + len(digits.group())
    out.append(_Lexeme("PHRASE", text[i:j], i + 1, slop, text[i + 1 : end], i + 2))
    return j


def _lex_word(text: str, i: int, j: int, out: list[_Lexeme]) -> int:
    word, col = text[i:j], i + 1
    if word in ("AND", "OR", "NOT"):
        out.append(_Lexeme(word, word, col))
        return j
    if word == "NEAR" or word.startswith("NEAR/"):  # NEARLY and NEARBY are words
        near = _NEAR.match(word)
        if near is None:
            raise QueryError("bad proximity: write NEAR/n with a number of words, e.g. NEAR/5", col)
        if int(near.group(1)) > MAX_DISTANCE:
            raise QueryError(f"bad proximity: at most {MAX_DISTANCE} words apart", col)
        out.append(_Lexeme("NEAR", word, col, int(near.group(1))))
        return j
    named = _FIELD.match(word)
    if named is None or (not named.group(2) and named.group(1).lower() not in FIELDS):
        out.append(_Lexeme("WORD", word, col))  # `BREAKING:` is just a word
        return j
    name, value = named.group(1).lower(), named.group(2)
    if name not in FIELDS:
        raise QueryError(
            f"unknown field '{named.group(1)}' (fields: {', '.join(FIELDS)}; "
            "quote text that contains ':')",
            col,
        )
    value_col = col + len(name) + 1
    if not value and j < len(text) and text[j] in _QUOTES:
        phrase: list[_Lexeme] = []
        j = _lex_phrase(text, j, phrase)
        value, value_col = phrase[0].inner, phrase[0].inner_column
    if not value.strip():
        raise QueryError(f"empty value for {name}:", value_col)
    out.append(_Lexeme("FIELD", text[i:j], col, inner=value, inner_column=value_col))
    return j


class _Parser:
    def __init__(self, text: str, lexemes: list[_Lexeme]) -> None:
        self.text = text
        self.lexemes = lexemes
        self.pos = 0
        self.depth = 0

    def peek(self) -> _Lexeme | None:
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
            if closing is not None and closing.kind == ")":
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

    def expect_operand(self, operator: _Lexeme) -> None:
        lex = self.peek()
        if lex is None or lex.kind in ("AND", "OR", "NEAR", ")"):
            raise QueryError(f"missing term after {operator.text}", operator.column)

    def enter(self, lex: _Lexeme) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QueryError(f"nested more than {MAX_DEPTH} levels deep", lex.column)


def _col(lex: _Lexeme | None) -> int:
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


def _filter(lex: _Lexeme) -> Filter:
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
