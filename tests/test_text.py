"""Text folding and tokenisation: the rules every query, match and highlight relies on."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given, settings
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


_SAMPLE = st.text(
    st.sampled_from("aZéÉßİıΣσς ёЁйЙїЇ́ Ö-’ʼ'#@½ﬁ\u00ad\u200d𝐁😀停ा⚡\ufe0f\u20e3か\u3099・1"),
    max_size=20,
)


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


# --- Emoji, variation selectors, keycaps and marks on no letter (issue 9) ----------------
# They neither join nor separate words, and are never words of their own.

_EMOJI = ["⚡️", "❗️", "‼️", "⚠️", "❤️", "☝️", "☝\ufe0e", "⚠\ufe0e"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("⚡️BREAKING: ceasefire agreed", ["breaking", "ceasefire", "agreed"]),
        ("❗️Зеленський: енергетичне перемир'я", ["зеленський", "енергетичне", "перемир", "я"]),
        ("peace ⚡️ talks resume", ["peace", "talks", "resume"]),
        ("1️⃣ ceasefire", ["1", "ceasefire"]),
        ("⚡️BREAKING: Kyiv", ["breaking", "kyiv"]),
    ],
)
def test_the_examples_of_issue_9(text: str, expected: list[str]) -> None:
    assert words(text) == expected
    assert [t.text for t in tokenize(text)] == expected


@pytest.mark.parametrize("emoji", _EMOJI)
def test_an_emoji_with_its_selector_is_a_separator_and_nothing_more(emoji: str) -> None:
    assert words(emoji) == []
    assert words(f"{emoji}Kyiv") == ["kyiv"]
    assert words(f"Kyiv{emoji}") == ["kyiv"]
    assert words(f"a {emoji} b") == ["a", "b"]
    assert words(f"a{emoji}b") == ["a", "b"]  # the emoji itself separates, as any symbol does
    assert words(emoji[-1]) == []  # the selector alone is nothing at all


@pytest.mark.parametrize("key", [*"0123456789#*"])
def test_keycaps_are_their_digit_or_nothing(key: str) -> None:
    keycap = f"{key}\ufe0f\u20e3"
    expected = [key] if key.isdigit() else []
    assert words(keycap) == expected
    assert words(f"{key}\u20e3") == expected  # written without the selector
    assert words(f"{keycap} ceasefire") == [*expected, "ceasefire"]


def test_selectors_and_keycaps_on_a_letter_are_dropped_without_splitting_it() -> None:
    assert words("x\ufe0ey") == ["xy"]
    assert words("a\ufe0f1") == ["a1"]
    assert words("a\u20e3b") == ["ab"]
    assert words("ᠠ\u180bᠠ") == [normalize("ᠠᠠ")]  # a Mongolian free variation selector
    # An Ideographic Variation Sequence picks a glyph of the same Han character.
    assert words("葛\U000e0100城") == ["葛", "城"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\u0301", []),  # a mark at the start has no base at all
        ("\u0301ceasefire", ["ceasefire"]),
        ("a \u0301 b", ["a", "b"]),  # on a space
        ("🔥\u0301Kyiv", ["kyiv"]),  # on an emoji
        ("!!!\u0308", []),  # on punctuation
        ("9\u0301", ["9"]),  # on a digit
        ("1\u20dd ceasefire", ["1", "ceasefire"]),  # an enclosing circle on a digit
        ("1\U0001d167", ["1"]),  # a mark outside the basic plane, on a digit
        ("_\u0301x", ["_x"]),  # on `_`: dropped, and `_x` stays one word
        ("7\u200d\u0301", ["7"]),  # a joiner between is not a base (D56)
    ],
)
def test_combining_marks_on_no_letter_are_dropped(text: str, expected: list[str]) -> None:
    assert words(text) == expected
    assert [t.text for t in tokenize(text)] == expected


def test_combining_marks_on_letters_still_belong_to_them() -> None:
    assert words("Cafe\u0301") == ["cafe"]  # Latin: folded away as before
    assert words("и\u0306од") == ["йод"] != words("иод")  # й stays a letter of its own
    assert words("كَتَبَ") == ["كَتَبَ"]  # Arabic harakat kept
    assert words("नमस्ते") == ["नमस्ते"]  # Devanagari vowel signs kept
    assert words("か\u3099") == ["が"]  # a combining voiced mark on kana composes


def test_tokens_of_decorated_words_cover_the_word_and_its_own_marks_only() -> None:
    text = "⚡️BREAKING 1️⃣ ok"
    assert [(t.text, text[t.start : t.end]) for t in tokenize(text)] == [
        ("breaking", "BREAKING"),
        ("1", "1️⃣"),  # the keycap is part of its digit: highlighted together
        ("ok", "ok"),
    ]


def test_invisible_joiners_join_within_a_word_and_are_nothing_elsewhere() -> None:
    assert words("infra\u200dstructure") == ["infrastructure"]
    assert words("infra\u2060structure") == ["infrastructure"]  # word joiner
    assert words("می\u200cخواهم") == ["میخواهم"]  # Persian writes ZWNJ inside words
    assert words("👨\u200d👩\u200d👧 peace") == ["peace"]
    assert [(t.text, t.start) for t in tokenize("\u200dpeace")] == [("peace", 1)]


def test_kana_marks_and_the_katakana_middle_dot() -> None:
    assert words("ウクライナ・ロシア") == [*"ウクライナロシア"]  # ・ is punctuation: it separates
    assert words("\u309b \u3099") == []  # voicing marks on no kana are nothing


# A reference for the rule, character by character: joiners and selectors removed, a mark kept
# only on a letter, then runs of letters, digits, marks and `_`, each folded by normalize().
# Its alphabet avoids Han and kana (one word per character) and characters NFKC splits.
_DROPPED = {"\u00ad", "\u200c", "\u200d", "\u2060", "\u20e3", "\ufe0e", "\ufe0f", "\U000e0100"}
_ALPHABET = (
    "aZéßйиёΣ19_ -ʼ#⚡❗👍🏽𝐁ᠠकب"
    "\u0301\u0306\u0308\u093e\u064e\u20dd\U0001d167\u180b" + "".join(sorted(_DROPPED))
)


def _reference_words(text: str) -> list[str]:
    kept: list[str] = []
    on_letter = False
    for ch in text:
        if ch in _DROPPED:
            continue
        category = unicodedata.category(ch)
        if category[0] == "M":
            if on_letter:
                kept.append(ch)
            continue
        on_letter = category[0] == "L" and ch != "ʼ"
        kept.append(ch)
    runs, run = [], ""
    for ch in [*kept, " "]:
        if ch != "ʼ" and (unicodedata.category(ch)[0] in "LNM" or ch == "_"):
            run += ch
        elif run:
            runs.append(run)
            run = ""
    return [folded for r in runs if (folded := normalize(r))]


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(_ALPHABET), max_size=16))
def test_words_follow_the_rule_spelled_out_character_by_character(text: str) -> None:
    assert words(text) == _reference_words(text)
