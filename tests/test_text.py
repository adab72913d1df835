"""Text folding and tokenisation: the rules every query, match and highlight relies on."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.classify.text import guess_lang, normalize, tokenize, words


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("CEASEFIRE", "ceasefire"),
        ("Straße", "strasse"),  # casefold, not lower
        ("ＵＫＲＡＩＮＥ", "ukraine"),  # full-width letters (NFKC)
        ("𝐁𝐑𝐄𝐀𝐊𝐈𝐍𝐆", "breaking"),  # "bold" mathematical letters used for styling on X
        ("ﬁre", "fire"),  # ligature
        ("Café Élysée", "cafe elysee"),  # accents on Latin letters do not matter
        ("İstanbul", "istanbul"),
        ("Ἀθῆναι", "αθηναι"),  # Greek accents and breathings
        ("ПЕРЕМИРИЕ", "перемирие"),
        ("Ёлка", "елка"),  # Russian ё is often written е
        ("за́мок", "замок"),  # a stress mark is a reading aid
        ("infra\u00adstructure", "infrastructure"),  # soft hyphen (HTML &shy;)
    ],
)
def test_normalize_folds_case_width_and_accents(raw: str, folded: str) -> None:
    assert normalize(raw) == folded


def test_normalize_keeps_letters_that_are_letters_of_their_own() -> None:
    # й, ї are letters in Ukrainian and Russian, not и, і with an accent.
    assert normalize("йод") != normalize("иод")
    assert normalize("Київ") == "київ"
    # Devanagari vowel signs are combining marks too; dropping them would change the word.
    assert normalize("नमस्ते") == "नमस्ते"


def test_tokens_keep_offsets_into_the_original_text() -> None:
    text = "BREAKING: Russia’s #Ceasefire—@realDonaldTrump says «перемирие» 🇺🇦!"
    tokens = tokenize(text)
    assert [t.text for t in tokens] == [
        "breaking",
        "russia",
        "s",
        "ceasefire",
        "realdonaldtrump",
        "says",
        "перемирие",
    ]
    assert [text[t.start : t.end] for t in tokens][3:5] == ["Ceasefire", "realDonaldTrump"]


@pytest.mark.parametrize(
    "text",
    [
        "cease-fire",
        "cease fire",
        "cease–fire",  # en dash
        "cease—fire",  # em dash
        "cease\u2011fire",  # non-breaking hyphen
        "cease\u00a0fire",  # no-break space
        "cease/fire",
    ],
)
def test_dashes_and_spaces_all_separate_words(text: str) -> None:
    assert words(text) == ["cease", "fire"]


@pytest.mark.parametrize("apostrophe", ["'", "’", "ʼ", "`", "ʻ"])
def test_every_apostrophe_variant_separates_words(apostrophe: str) -> None:
    assert words(f"сім{apostrophe}я") == ["сім", "я"]
    assert words(f"Russia{apostrophe}s") == ["russia", "s"]


def test_hashtags_mentions_urls_and_emoji() -> None:
    assert words("#Ukraine🔥🔥 @user@mastodon.social") == [
        "ukraine",
        "user",
        "mastodon",
        "social",
    ]
    assert words("https://news.example.com/ceasefire-talks?id=7") == [
        "https",
        "news",
        "example",
        "com",
        "ceasefire",
        "talks",
        "id",
        "7",
    ]
    assert words("👨‍👩‍👧 🇺🇦") == []  # zero-width joiners inside emoji are not words


def test_han_and_kana_are_one_word_per_character() -> None:
    assert words("停火协议") == ["停", "火", "协", "议"]
    assert words("ウクライナ停戦") == ["ウ", "ク", "ラ", "イ", "ナ", "停", "戦"]


def test_a_run_that_folds_into_several_words_shares_its_offsets() -> None:
    tokens = tokenize("x ½ y")
    assert [(t.text, t.start, t.end) for t in tokens] == [
        ("x", 0, 1),
        ("1", 2, 3),
        ("2", 2, 3),
        ("y", 4, 5),
    ]


@given(st.text())
def test_words_is_tokenize_without_offsets(text: str) -> None:
    tokens = tokenize(text)
    assert words(text) == [t.text for t in tokens]
    for token in tokens:
        assert 0 <= token.start < token.end <= len(text)
        assert token.text in words(text[token.start : token.end])


_SAMPLE = st.text(st.sampled_from("aZéÉßİıΣσς ёЁйЙїЇ́ Ö-’ʼ'#@½ﬁ\u00ad\u200d𝐁😀停ा"), max_size=20)


@given(_SAMPLE)
def test_words_on_a_hostile_alphabet_agrees_with_tokenize(text: str) -> None:
    assert words(text) == [t.text for t in tokenize(text)]
    assert normalize(text.lower()) == normalize(text)


def test_lower_first_changes_no_word_boundary_or_fold_anywhere_in_unicode() -> None:
    # words() lower-cases a whole text before splitting it; this is why that is safe.
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        low = ch.lower()
        if low == ch or 0xD800 <= cp <= 0xDFFF:
            continue
        assert words(f"a{ch}b") == words(f"a{low}b"), hex(cp)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Україна отримала нові системи ППО", "uk"),
        ("Россия объявила о перемирии", "ru"),
        ("Ceasefire talks resume", None),
        ("Беларусь і Расія: ўсё", None),  # Belarusian has letters of both sets
        ("", None),
    ],
)
def test_guess_lang_only_tells_ukrainian_from_russian(text: str, lang: str | None) -> None:
    assert guess_lang(text) == lang
