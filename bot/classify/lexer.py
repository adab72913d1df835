"""Query text → lexemes, for bot.classify.query's parser. Pure; raises QueryError with 1-based
columns.

Lexemes: ( ) AND OR NOT (also a leading - or −) NEAR/n, "phrases"~n in straight or typographic
quotes, field:value (value bare or quoted), and words. Operators are upper-case only. A word
with a colon is a field only when its name is known, or when a value follows (so `foo:bar`
is an error, while `BREAKING:` is a word).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import QueryError

MAX_DISTANCE = 50  # beyond ~50 words proximity is no stronger than AND within one post
FIELDS = ("author", "source", "kind", "lang")
QUOTES = '"“”„«»'
_NEAR = re.compile(r"NEAR/(\d+)\Z")
_FIELD = re.compile(r"([A-Za-z]+):(.*)\Z", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Lexeme:
    kind: str  # ( ) AND OR NOT NEAR WORD PHRASE FIELD
    text: str  # as written
    column: int
    number: int = 0  # NEAR distance, phrase slop
    inner: str = ""  # phrase content; field value
    inner_column: int = 0


def lex(text: str) -> list[Lexeme]:
    out: list[Lexeme] = []
    i, n = 0, len(text)
    while i < n:
        c, col = text[i], i + 1
        if c.isspace():
            i += 1
        elif c in "()":
            out.append(Lexeme(c, c, col))
            i += 1
        elif c in QUOTES:
            i = _lex_phrase(text, i, out)
        elif c in "-\u2212":  # ASCII hyphen-minus or the Unicode minus sign
            if i + 1 == n or text[i + 1].isspace() or text[i + 1] == ")":
                raise QueryError("expected a term after '-'", col)
            out.append(Lexeme("NOT", c, col))
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in "()" + QUOTES:
                j += 1
            i = _lex_word(text, i, j, out)
    return out


def _lex_phrase(text: str, i: int, out: list[Lexeme]) -> int:
    end = next((j for j in range(i + 1, len(text)) if text[j] in QUOTES), -1)
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
    out.append(Lexeme("PHRASE", text[i:j], i + 1, slop, text[i + 1 : end], i + 2))
    return j


def _lex_word(text: str, i: int, j: int, out: list[Lexeme]) -> int:
    word, col = text[i:j], i + 1
    if word in ("AND", "OR", "NOT"):
        out.append(Lexeme(word, word, col))
        return j
    if word == "NEAR" or word.startswith("NEAR/"):  # NEARLY and NEARBY are words
        near = _NEAR.match(word)
        if near is None:
            raise QueryError("bad proximity: write NEAR/n with a number of words, e.g. NEAR/5", col)
        if int(near.group(1)) > MAX_DISTANCE:
            raise QueryError(f"bad proximity: at most {MAX_DISTANCE} words apart", col)
        out.append(Lexeme("NEAR", word, col, int(near.group(1))))
        return j
    named = _FIELD.match(word)
    if named is None or (not named.group(2) and named.group(1).lower() not in FIELDS):
        out.append(Lexeme("WORD", word, col))  # `BREAKING:` is just a word
        return j
    name, value = named.group(1).lower(), named.group(2)
    if name not in FIELDS:
        raise QueryError(
            f"unknown field '{named.group(1)}' (fields: {', '.join(FIELDS)}; "
            "quote text that contains ':')",
            col,
        )
    value_col = col + len(name) + 1
    if not value and j < len(text) and text[j] in QUOTES:
        phrase: list[Lexeme] = []
        j = _lex_phrase(text, j, phrase)
        value, value_col = phrase[0].inner, phrase[0].inner_column
    if not value.strip():
        raise QueryError(f"empty value for {name}:", value_col)
    out.append(Lexeme("FIELD", text[i:j], col, inner=value, inner_column=value_col))
    return j
