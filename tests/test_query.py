"""The topic query grammar: precedence, phrases, wildcards, fields, proximity, and errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.classify.query import (
    And,
    Filter,
    Near,
    Not,
    Or,
    Query,
    Term,
    Word,
    format_query,
    parse_query,
)
from bot.errors import QueryError


def t(raw: str, *words: str, slop: int = 0) -> Term:
    """A term as the parser builds it; `word*` in `words` is a prefix word."""
    return Term(raw, tuple(Word(w.rstrip("*"), w.endswith("*")) for w in words), slop)


def test_the_readme_example() -> None:
    query = parse_query(
        '(ceasefire OR "cease-fire" OR перемири*) AND (Ukraine OR Putin OR Zelensky)'
    )
    assert query == And(
        (
            Or(
                (
                    t("ceasefire", "ceasefire"),
                    t('"cease-fire"', "cease", "fire"),
                    t("перемири*", "перемири*"),
                )
            ),
            Or((t("Ukraine", "ukraine"), t("Putin", "putin"), t("Zelensky", "zelensky"))),
        )
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a OR b c", "a OR (b AND c)"),  # AND binds tighter than OR
        ("a b OR c", "(a AND b) OR c"),
        ("NOT a b", "NOT a AND b"),  # NOT binds tighter than AND
        ("-a b", "NOT a AND b"),
        ("a AND NOT b OR c", "(a AND NOT b) OR c"),
        ("a (b OR c)", "a AND (b OR c)"),
        ("((a OR b) AND (c OR (d e)))", "(a OR b) AND (c OR (d AND e))"),
        ("a NOT (b OR c)", "a AND NOT (b OR c)"),
        ("x NOT a NEAR/2 b", "x AND NOT a NEAR/2 b"),  # NEAR binds tighter than NOT
    ],
)
def test_precedence_not_and_or(text: str, expected: str) -> None:
    assert format_query(parse_query(text)) == expected
    assert parse_query(text) == parse_query(expected)


def test_adjacent_terms_mean_and() -> None:
    assert parse_query("ceasefire Ukraine") == parse_query("ceasefire AND Ukraine")


def test_lowercase_operators_are_ordinary_words() -> None:
    assert parse_query("war and peace") == And(
        (t("war", "war"), t("and", "and"), t("peace", "peace"))
    )
    assert parse_query('"OR"') == t('"OR"', "or")
    assert parse_query("NEARBY NEARLY") == And((t("NEARBY", "nearby"), t("NEARLY", "nearly")))


def test_phrases_and_multi_word_terms() -> None:
    assert parse_query('"energy infrastructure"') == t(
        '"energy infrastructure"', "energy", "infrastructure"
    )
    # Typographic quotes, as phones type them.
    assert parse_query("“energy grid”").words == (Word("energy"), Word("grid"))
    assert parse_query("«енергетична інфраструктура»").words == (
        Word("енергетична"),
        Word("інфраструктура"),
    )
    # A bare word with a dash or apostrophe is a phrase of its parts.
    assert parse_query("cease-fire") == t("cease-fire", "cease", "fire")
    assert parse_query("#ceasefire") == t("#ceasefire", "ceasefire")
    assert parse_query("@realDonaldTrump") == t("@realDonaldTrump", "realdonaldtrump")


def test_wildcards_are_prefixes_on_the_last_letter() -> None:
    assert parse_query("перемири*") == t("перемири*", "перемири*")
    assert parse_query('"energy infra*"').words == (Word("energy"), Word("infra", prefix=True))
    assert parse_query('"перемир* угод*"').words == (
        Word("перемир", prefix=True),
        Word("угод", prefix=True),
    )


def test_fields() -> None:
    query = parse_query('author:"Donald Trump" source:trump-* kind:RSS lang:en-US')
    assert query == And(
        (
            Filter(
                "author", "donald trump", 'author:"Donald Trump"', (Word("donald"), Word("trump"))
            ),
            Filter("source", "trump-", "source:trump-*", prefix=True),
            Filter("kind", "rss", "kind:RSS"),
            Filter("lang", "en", "lang:en-US"),
        )
    )
    prefixed = parse_query("author:real*")
    assert isinstance(prefixed, Filter)
    assert prefixed.words == (Word("real", prefix=True),)
    # Text with a colon that is not a field: a trailing colon is just punctuation.
    assert parse_query("BREAKING: ceasefire") == And(
        (t("BREAKING:", "breaking"), t("ceasefire", "ceasefire"))
    )
    assert parse_query("10:30") == t("10:30", "10", "30")


def test_proximity() -> None:
    assert parse_query('"energy infrastructure"~5') == t(
        '"energy infrastructure"~5', "energy", "infrastructure", slop=5
    )
    assert parse_query('ceasefire NEAR/3 "energy grid"') == Near(
        t("ceasefire", "ceasefire"), t('"energy grid"', "energy", "grid"), 3
    )


def test_exclusions() -> None:
    assert parse_query("ceasefire -Gaza") == And(
        (t("ceasefire", "ceasefire"), Not(t("Gaza", "gaza")))
    )
    assert parse_query("ceasefire −Gaza") == parse_query("ceasefire NOT Gaza")  # U+2212 minus
    assert parse_query('ceasefire -"Gaza Strip" -(Israel OR Hamas)') == parse_query(
        'ceasefire NOT "Gaza Strip" NOT (Israel OR Hamas)'
    )


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("(ceasefire OR truce AND Ukraine", "unbalanced parenthesis", 1),
        ("ceasefire OR (truce Ukraine", "unbalanced parenthesis", 14),
        ("ceasefire OR truce) AND Ukraine", "unbalanced parenthesis", 19),
        ("ceasefire AND (", "unbalanced parenthesis", 15),
        ("ceasefire ()", "empty parentheses", 11),
        ('ceasefire ""', "empty phrase", 11),
        ('ceasefire "!!"', "empty phrase", 11),
        ('ceasefire "Ukraine', "unterminated phrase", 11),
        ("NOT Gaza", "a query made only of NOT terms would match almost every post", 1),
        ("-Gaza -Israel", "a query made only of NOT terms would match almost every post", 1),
        ("NOT (Gaza AND Israel)", "only of NOT terms", 1),
        ("ceasefire OR -Gaza", "NOT on one side of OR would match almost every post", 14),
        ("weather:sunny", "unknown field 'weather'", 1),
        ("https://example.com", "unknown field 'https'", 1),
        ("kind:twitter", "unknown kind 'twitter'", 6),
        ("lang:english", "lang: takes a language code", 6),
        ("author: Trump", "empty value for author:", 8),
        ("source:*", "source: takes a source id", 8),
        ("a NEAR b", "bad proximity: write NEAR/n", 3),
        ("a NEAR/x b", "bad proximity", 3),
        ("a NEAR/99 b", "bad proximity: at most 50 words apart", 3),
        ("(a OR b) NEAR/3 c", "bad proximity: NEAR joins two words or phrases", 10),
        ("kind:rss NEAR/3 c", "bad proximity", 10),
        ("a NEAR/3 b NEAR/3 c", "bad proximity: NEAR joins only two", 12),
        ('"ceasefire"~3', "bad proximity: '~n' needs a phrase of two or more words", 1),
        ('"energy grid"~', "bad proximity: expected a number", 14),
        ('"energy grid"~51', "bad proximity: at most 50", 14),
        ("a OR", "missing term after OR", 3),
        ("OR a", "missing term before OR", 1),
        ("a AND OR b", "missing term after AND", 3),
        ("a NOT", "missing term after NOT", 3),
        ("a -", "expected a term after '-'", 3),
        ("", "empty query", 1),
        ("   ", "empty query", 1),
        ("fo*o", "a wildcard '*' can only end a word", 3),
        ("*war", "a wildcard '*' can only end a word", 1),
        ("u*", "a wildcard needs at least 2 letters", 2),
        ("🔥", "has no letters or digits", 1),
        ("(" * 40 + "a" + ")" * 40, "nested more than 32 levels deep", 33),
    ],
)
def test_errors_say_what_and_where(text: str, message: str, column: int) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(text)
    assert message in caught.value.message
    assert caught.value.column == column
    assert str(caught.value) == f"{caught.value.message} at column {column}"


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("\u0301", 1),  # only a combining mark: like `!!!`, nothing to search
        ("!!!", 1),
        ("ceasefire \u0301", 11),
        ("ceasefire ⚡️", 11),
        ("ceasefire \ufe0f", 11),
        ("ceasefire #️⃣", 11),  # a keycap on `#` is no digit
        ("ceasefire OR ‼️", 14),
    ],
)
def test_a_term_that_folds_to_no_word_is_refused_with_its_column(text: str, column: int) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(text)
    assert caught.value.message.endswith("has no letters or digits to search")
    assert caught.value.column == column


def test_decorated_query_terms_fold_like_posts() -> None:
    assert parse_query("1️⃣") == t("1️⃣", "1")
    assert parse_query("⚡️BREAKING") == t("⚡️BREAKING", "breaking")
    assert parse_query('"peace ⚡️ talks"') == t('"peace ⚡️ talks"', "peace", "talks")
    with pytest.raises(QueryError, match="empty phrase"):
        parse_query('"\u0301 ⚡️"')
    with pytest.raises(QueryError, match="author: needs letters or digits"):
        parse_query("author:\u0301")


def test_a_not_only_or_branch_is_accepted_inside_an_and_with_a_positive_term() -> None:
    # Every match still contains `ceasefire`: the OR only narrows it.
    assert parse_query("ceasefire AND (truce OR NOT war)") == And(
        (t("ceasefire", "ceasefire"), Or((t("truce", "truce"), Not(t("war", "war")))))
    )
    assert parse_query("(truce OR -war) kind:telegram") == And(
        (
            Or((t("truce", "truce"), Not(t("war", "war")))),
            Filter("kind", "telegram", "kind:telegram"),
        )
    )


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("truce OR NOT war", 10),  # the OR can be true without any positive term
        ("(truce OR NOT war) AND NOT peace", 11),  # nothing positive holds the AND
        ("ceasefire OR (truce OR NOT war)", 24),
        ("NOT NOT war", 1),  # a term under NOT never counts as positive
    ],
)
def test_a_query_that_can_match_without_a_positive_term_is_refused(text: str, column: int) -> None:
    with pytest.raises(QueryError, match="would match almost every post") as caught:
        parse_query(text)
    assert caught.value.column == column


def test_nesting_is_limited_to_32_levels_of_parentheses_and_nots() -> None:
    assert parse_query("(" * 32 + "a" + ")" * 32) == t("a", "a")
    assert parse_query("x " + "NOT " * 32 + "y") is not None
    for text, column in [
        ("(" * 33 + "a" + ")" * 33, 33),
        ("x " + "NOT " * 33 + "y", 3 + 4 * 32),
        ("x " + "(NOT " * 17 + "y" + ")" * 17, 3 + 5 * 16),  # both count: 17th '(' is 33rd
    ]:
        with pytest.raises(QueryError, match="nested more than 32 levels deep") as caught:
            parse_query(text)
        assert caught.value.column == column


def test_near_binds_tighter_than_not_and_and() -> None:
    near = Near(t("a", "a"), t("b", "b"), 2)
    assert parse_query("NOT a NEAR/2 b x") == And((Not(near), t("x", "x")))
    assert parse_query("x a NEAR/2 b") == And((t("x", "x"), near))
    assert parse_query("x AND a NEAR/2 b OR c") == Or((And((t("x", "x"), near)), t("c", "c")))


def test_operators_are_ascii_upper_case_and_full_width_ones_are_words() -> None:
    assert parse_query("war ＡＮＤ peace") == And(
        (t("war", "war"), t("ＡＮＤ", "and"), t("peace", "peace"))
    )
    assert parse_query("war ＯＲ peace") == And(
        (t("war", "war"), t("ＯＲ", "or"), t("peace", "peace"))
    )
    assert parse_query("ＮＯＴ war") == And((t("ＮＯＴ", "not"), t("war", "war")))
    assert parse_query("a ＮＥＡＲ/2 b") == And(
        (t("a", "a"), t("ＮＥＡＲ/2", "near", "2"), t("b", "b"))
    )


def test_an_author_value_of_several_words_is_a_phrase() -> None:
    quoted = parse_query('author:"Donald Trump"')
    assert isinstance(quoted, Filter)
    assert quoted.words == (Word("donald"), Word("trump"))
    assert parse_query("author:Donald-Trump") == Filter(
        "author", "donald-trump", "author:Donald-Trump", (Word("donald"), Word("trump"))
    )


def test_a_word_containing_an_operator_name_is_a_word() -> None:
    assert parse_query("ORBAN NOTABLE ANDROID") == And(
        (t("ORBAN", "orban"), t("NOTABLE", "notable"), t("ANDROID", "android"))
    )


# Round trip: any AST built from these pieces formats to text that parses back to it.
_LEAVES = st.sampled_from(
    [
        "war",
        "Ukraine",
        "перемири*",
        '"cease-fire"',
        '"energy infrastructure"~3',
        "cease-fire",
        "kind:rss",
        "source:trump-*",
        "lang:uk",
        'author:"Donald Trump"',
        "a NEAR/2 b",
    ]
).map(parse_query)


def _trees() -> st.SearchStrategy[Query]:
    return st.recursive(
        _LEAVES,
        lambda inner: st.one_of(
            inner.map(Not),
            st.lists(inner, min_size=2, max_size=3).map(lambda ops: And(tuple(ops))),
            st.lists(inner, min_size=2, max_size=3).map(lambda ops: Or(tuple(ops))),
        ),
        max_leaves=8,
    )


def _anchored(query: Query) -> bool:
    if isinstance(query, Not):
        return False
    if isinstance(query, And):
        return any(_anchored(op) for op in query.operands)
    if isinstance(query, Or):
        return all(_anchored(op) for op in query.operands)
    return True


@given(_trees())
def test_format_then_parse_gives_the_same_tree(query: Query) -> None:
    text = format_query(query)
    if _anchored(query):
        assert parse_query(text) == query
    else:
        with pytest.raises(QueryError, match="NOT"):
            parse_query(text)
