"""The language of a post that does not declare one, for `lang:` filters.

Letters only one alphabet has decide Ukrainian against Russian first (a statistical model mixes
the two up on short posts); a text with both alphabets' own letters is mixed: unknown. Otherwise
py3langid (naive Bayes over byte n-grams, 97 languages, its model shipped in the wheel; 70-100
microseconds a post here) answers when it is confident. A text under MIN_WORDS words, or an
answer under MIN_CONFIDENCE, is unknown: `lang:en` then does not match, rather than matching
on a coin toss ("JUST IN: ceasefire" came out Romanian at 0.15). Only posts a `lang:` filter
is tested on are detected, and not when they lack the letters of the language asked for
(`could_be`), so a watchlist pays little; the model (~1 s to load) loads on first use.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

from bot.classify.text import cyrillic_marks, words

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier  # untyped: Any to mypy

MIN_WORDS = 4
# Normalised probability. Measured on news sentences: English 0.72-0.98, French 0.998, German
# 0.99, Spanish 0.84; headlines of 2-5 words 0.13-0.30 whatever their language.
MIN_CONFIDENCE = 0.5


# Languages by the letters they are written in, for `could_be`: codes not listed always could.
_CYRILLIC_LANGS = frozenset({"uk", "ru", "be", "bg", "sr", "mk", "kk", "ky", "mn", "tg"})
_LATIN_LANGS = frozenset(
    "en fr de es it pt nl pl ro tr cs sk sl hr hu sv da no nb fi et lv lt id ms vi az".split()
)
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_LATIN = re.compile("[A-Za-z\u00c0-\u024f]")


def could_be(text: str, code: str) -> bool:
    """False when `text` has none of the letters language `code` is written in: then it is not
    in that language, and the model need not run."""
    if code in _CYRILLIC_LANGS:
        return _CYRILLIC.search(text) is not None
    if code in _LATIN_LANGS:
        return _LATIN.search(text) is not None
    return True


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of `text`'s language, or None when it cannot be told with confidence."""
    uk, ru = cyrillic_marks(text)
    if uk != ru:
        return "uk" if uk else "ru"
    if uk:  # both alphabets' own letters: a mixed text (a quote, a bilingual post)
        return None
    if len(words(text)) < MIN_WORDS:
        return None
    lang, confidence = _identifier().classify(text)
    return str(lang) if confidence >= MIN_CONFIDENCE else None


@cache
def _identifier() -> LanguageIdentifier:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
