"""Text normalisation and word tokenisation shared by queries, matching and highlighting.

Pure functions, no I/O. The rules, decided once so every caller agrees:

- A *word* starts with a letter, digit or `_` in the ORIGINAL text and runs on over letters,
  digits, `_`, combining marks and invisible joiners. Everything else separates words: spaces,
  punctuation, every dash (`cease-fire` is two words), every apostrophe variant (' ’ ʼ ʻ `),
  `#` and `@` (so `#ceasefire` is the word `ceasefire` and `@realDonaldTrump` the word
  `realdonaldtrump`; `#CeasefireNow` is one word, not split at capitals), emoji and symbols.
  The words of URLs count too: link slugs often carry a headline.
- Variation selectors (U+FE00-FE0F, U+E0100-E01EF, Mongolian U+180B-180D and U+180F), the
  keycap mark U+20E3, and every combining mark whose base is not a letter are dropped: they
  neither join nor separate words, and never make a word of their own. A mark's base is the
  first character before it that is not a mark or a joiner (The Unicode Standard, 3.6 D56:
  combining character sequences). So "⚡️BREAKING" has the word `breaking` (⚡ separates, its
  U+FE0F is dropped), "1️⃣" is `1`, and a mark after a digit, `_`, a space or an emoji is
  nothing.
- Invisible joiners (soft hyphen, ZWNJ, ZWJ, word joiner) inside a word are dropped and the
  word stays whole: `infra&shy;structure` is `infrastructure`, and Persian and Indic words
  written with ZWNJ/ZWJ stay one word. Between emoji (👨‍👩‍👧) they are nothing.
- Han, Hiragana and Katakana letters are one word each (with their marks: か + U+3099 = が):
  those scripts do not put spaces between words, so a multi-character query term becomes a
  phrase of single characters. Thai, Lao, Khmer and Myanmar get no such treatment: a run of
  them is one word.
- Each word is then folded: NFKC (full-width letters, ligatures), casefold (ß → ss, final
  sigma), accents stripped from Latin and Greek letters (é → e, İ → i), and Russian ё → е
  (Russian text commonly writes е for ё). Other Cyrillic letters with marks stay distinct
  letters: й ≠ и, ї ≠ і, because they are letters of their own, not accented ones; only
  stress marks (´ `) are dropped. Marks on letters of other scripts (Devanagari vowel signs,
  Arabic harakat) are kept: stripping them would break or change words.
- A folded word that contains separators after NFKC (`½` → `1⁄2`) splits into several words
  sharing the original offsets.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from itertools import chain

# Han (incl. extensions and compatibility ideographs), Hiragana, Katakana: one word per letter.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_CJK_BLOCKS = re.compile(f"[{_CJK}]")
# Letters (Lm) that are really apostrophes in use: Ukrainian ʼ, Hawaiian ʻ, ʹ as a prime.
_APOSTROPHE_LETTERS = frozenset("\u02bc\u02bb\u02b9")
# Invisible joiners: soft hyphen (HTML &shy;), ZWNJ, ZWJ, word joiner. Part of a word, then dropped.
_IGNORABLE = "\u00ad\u200c\u200d\u2060"
# Marks that only choose a glyph (emoji or text style, a Han variant, a keycap frame): dropped
# wherever they are, on a letter too. U+E0100-E01EF are Ideographic Variation Sequences' selectors.
_VARIATION_RANGES = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF), (0x180B, 0x180D), (0x180F, 0x180F))
_KEYCAP = 0x20E3
_VARIATION = "".join(f"{chr(a)}-{chr(b)}" for a, b in _VARIATION_RANGES) + chr(_KEYCAP)
_INVISIBLE_TABLE = dict.fromkeys(
    [
        *map(ord, _IGNORABLE),
        *chain.from_iterable(range(a, b + 1) for a, b in _VARIATION_RANGES),
        _KEYCAP,
    ]
)
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_STRIPPABLE = re.compile(f"[{_MARKS}]")
_LATIN_GREEK_MARKS = re.compile(
    # A Latin or Greek base letter (after NFD) followed by combining marks: keep the base only.
    f"([a-z\u00c0-\u024f\u1e00-\u1eff\u0370-\u03ff\u1f00-\u1fff])[{_MARKS}]+"
)
# Stress marks (acute, grave) on Cyrillic vowels are reading aids, not letters: за́мок = замок.
_CYRILLIC_STRESS = re.compile("([\u0400-\u04ff])[\u0300\u0301]+")
_ASCII_WORD = re.compile(r"[a-z0-9_]+")
# Supplementary planes below the emoji blocks, counted as letters wholesale (see _Patterns).
_ASTRAL_LETTERS = "\U00010000-\U0001efff"


@dataclass(frozen=True, slots=True)
class Token:
    """One folded word and where it came from: `original[start:end]`."""

    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Patterns:
    word: re.Pattern[str]  # a word, in original or in folded text
    stray_marks: re.Pattern[str]  # a base that is not a letter, then the marks on it


def _ranges(codepoints: list[int]) -> str:
    """A regex class body for sorted code points, as ranges."""
    spans: list[tuple[int, int]] = []
    for cp in codepoints:
        if spans and spans[-1][1] == cp - 1:
            spans[-1] = (spans[-1][0], cp)
        else:
            spans.append((cp, cp))
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in spans
    )


@cache
def _patterns() -> _Patterns:
    """The word and stray-mark regexes, built on first use (scanning the tables takes ~50 ms).

    Basic-plane characters are listed exactly, which `re` turns into one bitmap lookup per
    character. Supplementary planes are coarse in the classes tried at every character:
    everything below the emoji blocks (U+1F000) counts as a letter (historic scripts, and 𝐛𝐨𝐥𝐝
    mathematical letters that posts use for styling and NFKC folds to plain ones). An exact
    astral list would be checked range by range at every separator, 10x slower. Only the marks
    of `stray_marks`, tried after a non-letter, list planes 1 and 14 exactly.
    """
    starts: list[int] = []  # letters, digits, `_`: what a word starts with
    cjk: list[int] = []  # letters of _CJK_BLOCKS: one word each
    letters: list[int] = []  # every letter, for the base of a mark
    marks: list[int] = []
    for cp in range(0x10000):
        ch = chr(cp)
        kind = unicodedata.category(ch)[0]
        if kind == "M":
            marks.append(cp)
            continue
        if kind == "L":
            letters.append(cp)
        if ch in _APOSTROPHE_LETTERS or not (kind in "LN" or ch == "_"):
            continue
        (cjk if _CJK_BLOCKS.match(ch) else starts).append(cp)
    astral_marks = [
        cp
        for cp in chain(range(0x10000, 0x20000), range(0xE0000, 0xE1000))
        if unicodedata.category(chr(cp))[0] == "M"
    ]
    start = _ranges(starts) + _ASTRAL_LETTERS
    body = start + _ranges(sorted([*marks, *map(ord, _IGNORABLE)])) + _VARIATION
    cjk_start = _ranges(cjk) + "\U00020000-\U0003134f"
    word = f"[{start}][{body}]*|[{cjk_start}][{_ranges(marks)}{_VARIATION}]*"
    # Astral marks behind a guard: a class's astral ranges are tried one by one for every
    # basic-plane character it does not hold, which made this search 7x slower.
    mark = f"(?:[{_ranges(marks)}]|(?=[\U00010000-\U0010ffff])[{_ranges(astral_marks)}])"
    base = _ranges(sorted(letters + marks)) + _ASTRAL_LETTERS + "\U00020000-\U0003134f"
    return _Patterns(
        word=re.compile(word),
        stray_marks=re.compile(f"([^{base}]){mark}+"),  # not a letter, nor a mark (D56)
    )


def _word_pattern() -> re.Pattern[str]:
    return _patterns().word


def normalize(text: str) -> str:
    """Fold text for comparison (see the module docstring); keeps separators, but drops
    variation selectors, keycaps, joiners and combining marks that are not on a letter."""
    if text.isascii():
        return text.lower()  # NFKC leaves ASCII alone and casefold() is lower() on it
    folded = unicodedata.normalize("NFKC", text).casefold()
    if folded.isascii():
        return folded
    folded = folded.translate(_INVISIBLE_TABLE)
    if not folded.isalnum():  # only letters and digits (most words): no marks at all
        folded = _without_stray_marks(folded)
    if (
        unicodedata.is_normalized("NFD", folded)  # nothing precomposed (no é, й, ё) ...
        and unicodedata.is_normalized("NFC", folded)  # ... nor anything to compose ...
        and not _STRIPPABLE.search(folded)  # ... nor a mark to strip: most Cyrillic words
    ):
        return folded  # what the steps below would return, without their cost
    decomposed = unicodedata.normalize("NFD", folded)
    stripped = _CYRILLIC_STRESS.sub(r"\1", _LATIN_GREEK_MARKS.sub(r"\1", decomposed))
    return unicodedata.normalize("NFC", stripped).replace("ё", "е")


def _without_stray_marks(text: str) -> str:
    """`text` without the combining marks whose base is not a letter (or that have none)."""
    stray = _patterns().stray_marks
    padded = " " + text  # a base that is not a letter, for marks at the very start
    if stray.search(padded) is None:  # the usual case: sub() costs 5x a search
        return text
    return stray.sub(_base_only, padded)[1:]


def _base_only(match: re.Match[str]) -> str:
    return match.group(1)


class _FoldedRuns(dict[str, tuple[str, ...]]):
    """Lower-cased run of word characters → its folded words. Word vocabularies are Zipfian,
    so this memo answers most runs of a stream; it is emptied when full (a plain dict is faster
    than functools.lru_cache here, and eviction order does not matter much)."""

    def __missing__(self, run: str) -> tuple[str, ...]:
        if run.isascii():  # lower-cased ASCII word characters fold to themselves: not stored,
            return (run,)  # so the memo keeps room for the runs that are costly to fold
        if len(self) >= 1 << 16:
            self.clear()
        folded = self[run] = tuple(_word_pattern().findall(normalize(run)))
        return folded


_fold_run = _FoldedRuns().__getitem__


def tokenize(text: str) -> list[Token]:
    """Folded words with their offsets in `text`, for highlighting and query parsing."""
    tokens: list[Token] = []
    for m in _word_pattern().finditer(text):
        for word in _fold_run(m.group().lower()):
            tokens.append(Token(word, m.start(), m.end()))
    return tokens


def words(text: str) -> list[str]:
    """The folded words of `text`: `[t.text for t in tokenize(text)]`, without the offsets."""
    if text.isascii():
        # ASCII folding is lower(): it neither merges nor splits words, so fold first.
        return _ASCII_WORD.findall(text.lower())
    # lower() first: it keeps every character's word/non-word class and folding result (checked
    # over all of Unicode in tests/test_text.py), and it lets "Ukraine", "UKRAINE" and "ukraine"
    # share one memo entry.
    return list(chain.from_iterable(map(_fold_run, _word_pattern().findall(text.lower()))))


_UKRAINIAN_ONLY = frozenset("іїєґ")
_RUSSIAN_ONLY = frozenset("ыэъё")


def cyrillic_marks(text: str) -> tuple[bool, bool]:
    """Whether `text` has letters only Ukrainian has (і ї є ґ), and letters only Russian has
    (ы э ъ ё)."""
    letters = set(text.casefold())
    return not letters.isdisjoint(_UKRAINIAN_ONLY), not letters.isdisjoint(_RUSSIAN_ONLY)


def guess_lang(text: str) -> str | None:
    """A deliberately tiny language guess: "uk" or "ru" by letters unique to each alphabet.

    Ukrainian has і ї є ґ and Russian ы э ъ ё; a text with letters of only one of the two sets
    gets that language. Everything else (Latin-script languages, Belarusian, mixed or short
    text) is None: unknown. Sources that declare a language (Post.lang) always win over this.
    """
    uk, ru = cyrillic_marks(text)
    if uk == ru:
        return None
    return "uk" if uk else "ru"
