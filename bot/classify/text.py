"""Text normalisation and word tokenisation shared by queries, matching and highlighting.

Pure functions, no I/O. The rules, decided once so every caller agrees:

- A *word* is a run of letters, digits, combining marks and `_` in the ORIGINAL text. Everything
  else separates words: spaces, punctuation, every dash (`cease-fire` is two words), every
  apostrophe variant (' ’ ʼ ʻ `), `#` and `@` (so `#ceasefire` is the word `ceasefire` and
  `@realDonaldTrump` the word `realdonaldtrump`; `#CeasefireNow` is one word, not split at
  capitals), emoji and symbols. The words of URLs count too: link slugs often carry a headline.
- Han, Hiragana and Katakana characters are one word each: those scripts do not put spaces
  between words, so a multi-character query term becomes a phrase of single characters.
  Thai, Lao, Khmer and Myanmar get no such treatment: a run of them is one word.
- Each word is then folded: NFKC (full-width letters, ligatures), casefold (ß → ss, final
  sigma), soft hyphens and zero-width joiners dropped, accents stripped from Latin and Greek
  letters (é → e, İ → i), and Russian ё → е (Russian text commonly writes е for ё).
  Other Cyrillic letters with marks stay distinct letters: й ≠ и, ї ≠ і, because they are
  letters of their own, not accented ones; only stress marks (´ `) are dropped. Marks on
  other scripts (Devanagari vowel signs, Arabic harakat) are kept: stripping them would break
  or change words.
- A folded word that contains separators after NFKC (`½` → `1⁄2`) splits into several words
  sharing the original offsets.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from itertools import chain

# Han (incl. extensions and compatibility ideographs), Hiragana, Katakana: one word per char.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# Letters (Lm) that are really apostrophes in use: Ukrainian ʼ, Hawaiian ʻ, ʹ as a prime.
_APOSTROPHE_LETTERS = frozenset("\u02bc\u02bb\u02b9")
# Invisible joiners: soft hyphen (HTML &shy;), ZWNJ, ZWJ, word joiner. Part of a word, then dropped.
_IGNORABLE = "\u00ad\u200c\u200d\u2060"
_IGNORABLE_TABLE = dict.fromkeys(map(ord, _IGNORABLE))
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_STRIPPABLE = re.compile(f"[{_MARKS}]")
_LATIN_GREEK_MARKS = re.compile(
    # A Latin or Greek base letter (after NFD) followed by combining marks: keep the base only.
    f"([a-z\u00c0-\u024f\u1e00-\u1eff\u0370-\u03ff\u1f00-\u1fff])[{_MARKS}]+"
)
# Stress marks (acute, grave) on Cyrillic vowels are reading aids, not letters: за́мок = замок.
_CYRILLIC_STRESS = re.compile("([\u0400-\u04ff])[\u0300\u0301]+")
_ASCII_WORD = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True, slots=True)
class Token:
    """One folded word and where it came from: `original[start:end]`."""

    text: str
    start: int
    end: int


@cache
def _word_pattern() -> re.Pattern[str]:
    """The word regex, built on first use (scanning the BMP tables takes ~30 ms).

    Basic-plane word characters are listed exactly, which `re` turns into one bitmap lookup per
    character. Supplementary planes are two coarse ranges: everything below the emoji blocks
    (U+1F000) counts as a word character (historic scripts, and 𝐛𝐨𝐥𝐝 mathematical letters that
    posts use for styling and NFKC folds to plain ones) plus the combining variation selectors.
    An exact astral list would be checked range by range at every separator, 10x slower.
    """
    cjk = re.compile(f"[{_CJK}]")
    ranges: list[tuple[int, int]] = []
    for cp in range(0x10000):
        ch = chr(cp)
        if ch in _APOSTROPHE_LETTERS or cjk.match(ch):
            continue
        if unicodedata.category(ch)[0] in "LNM" or ch == "_" or ch in _IGNORABLE:
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    ranges += [(0x10000, 0x1EFFF), (0xE0100, 0xE01EF)]
    body = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )
    return re.compile(f"[{body}]+|[{_CJK}]")


def normalize(text: str) -> str:
    """Fold text for comparison (see the module docstring); keeps separators as they are."""
    if text.isascii():
        return text.lower()  # NFKC leaves ASCII alone and casefold() is lower() on it
    folded = unicodedata.normalize("NFKC", text).casefold()
    if folded.isascii():
        return folded
    folded = folded.translate(_IGNORABLE_TABLE)
    if (
        unicodedata.is_normalized("NFD", folded)  # nothing precomposed (no é, й, ё) ...
        and unicodedata.is_normalized("NFC", folded)  # ... nor anything to compose ...
        and not _STRIPPABLE.search(folded)  # ... nor a mark to strip: most Cyrillic words
    ):
        return folded  # what the steps below would return, without their cost
    decomposed = unicodedata.normalize("NFD", folded)
    stripped = _CYRILLIC_STRESS.sub(r"\1", _LATIN_GREEK_MARKS.sub(r"\1", decomposed))
    return unicodedata.normalize("NFC", stripped).replace("ё", "е")


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
