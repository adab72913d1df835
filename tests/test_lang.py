"""Language detection for `lang:` filters on posts that do not declare a language."""

from __future__ import annotations

import pytest

from bot.classify.lang import could_be, detect_language


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Both sides agreed to a ceasefire on energy infrastructure starting tonight.", "en"),
        ("Le président a annoncé un cessez-le-feu sur les infrastructures énergétiques.", "fr"),
        ("Der Präsident kündigte eine Waffenruhe für die Energieinfrastruktur an.", "de"),
        ("El presidente anunció un alto el fuego en la infraestructura energética.", "es"),
        # Letters only one alphabet has decide between Ukrainian and Russian.
        ("Зеленський: готові до перемир'я", "uk"),
        ("Россия объявила перемирие", "ru"),
        # No such letters: the model tells them apart on a sentence.
        ("Путин согласился приостановить удары по энергетике Украины на тридцать дней", "ru"),
    ],
)
def test_sentences_are_detected(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Ceasefire",
        "JUST IN: ceasefire",
        "Stocks rally",
        "https://t.co/abc",
        "🇺🇦🇺🇦🇺🇦",
        # Both alphabets' own letters: a quote in a bilingual post, no one language.
        "Зеленський у відеозверненні: «Россия должна прекратить удары по энергетике»",
    ],
)
def test_short_or_unsure_texts_are_unknown(text: str) -> None:
    assert detect_language(text) is None


def test_a_text_without_the_letters_of_a_language_is_not_in_it() -> None:
    assert not could_be("Both sides agreed to a ceasefire", "uk")
    assert could_be("Зеленський: готові", "uk")
    assert not could_be("Зеленський: готові", "en")
    assert could_be("Zelensky ready", "en")
    assert could_be("停火协议", "zh")  # scripts not listed: always could
