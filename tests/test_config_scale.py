"""Config loading at scale (issue 12): cost linear in sources and topics, every problem still found.

No wall-clock assertions (the machines are noisy). The loader's work is counted instead: Python
function calls under cProfile, which a quadratic step (each topic scanning every source, say)
multiplies by the growth factor. The large loads carry a timeout the old quadratic loader could
never meet (it took over 300 s for 100,000 sources and 2,000 topics; now a few seconds).
"""

from __future__ import annotations

import cProfile
import gc
import pstats
from pathlib import Path

import pytest

import bot.classify.text
import bot.config.load
from bot.config.load import load_config
from bot.errors import ConfigError

KEEPS_LAST = "YAML would silently keep only the last"


def config_text(sources: int, topics: int, *, duplicate_every: int = 0) -> str:
    """rss sources on distinct local URLs, each with its own `every`; topics, a tenth of them
    filtering on source ids (exact and prefix); channels choosing topics. With
    `duplicate_every`, every that-many-th source and topic repeats the id before it."""

    def ident(prefix: str, n: int) -> str:
        return f"{prefix}-{n - 1 if duplicate_every and n % duplicate_every == 0 else n}"

    lines = ["network:", "  allow_private_addresses: true", "sources:"]
    for n in range(sources):
        lines += [
            f"  - id: {ident('feed', n)}",
            "    kind: rss",
            f"    url: http://127.0.0.1:8765/feed/{n}",
            f"    every: {10 + n % 600}s",
            f"    enabled: {'false' if n % 13 == 0 else 'true'}",
        ]
    lines.append("topics:")
    for t in range(topics):
        query = f"word{t} OR other{t % 50}"
        if t % 10 == 0:
            query += f" source:feed-{(t * 7919) % sources}"
        elif t % 10 == 5:
            query += f" source:feed-{t % 9 + 1}*"
        lines += [f"  - id: {ident('topic', t)}", f"    query: '{query}'"]
    chosen = ", ".join(f"topic-{t}" for t in range(0, topics, 3))
    lines += [
        "channels:",
        "  - id: alerts",
        '    chat_id: "-1001234567890"',
        f"    topics: [{chosen}]",
    ]
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, text: str, name: str = "postwatch.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def calls_to_load(path: Path) -> int:
    """Python function calls (primitive and recursive) one load_config of `path` makes."""
    profile = cProfile.Profile()
    profile.enable()
    try:
        load_config(path, {})
    finally:
        profile.disable()
    calls: int = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
    return calls


def test_the_work_of_loading_grows_linearly_with_sources_and_topics(tmp_path: Path) -> None:
    small = write(tmp_path, config_text(2_000, 200), "small.yaml")
    large = write(tmp_path, config_text(8_000, 800), "large.yaml")
    load_config(small, {})  # warm up: first-use caches and imports are not part of the growth
    growth = calls_to_load(large) / calls_to_load(small)
    # 4x the sources and 4x the topics: linear is about 4x, sources x topics would be 16x.
    assert 3.5 < growth < 5, growth


def test_source_ids_are_folded_once_not_once_per_topic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, config_text(5_000, 500))
    folded: list[str] = []
    normalize = bot.classify.text.normalize

    def counting(text: str) -> str:
        folded.append(text)
        return normalize(text)

    monkeypatch.setattr(bot.classify.text, "normalize", counting)
    load_config(path, {})
    source_ids = [t for t in folded if t.startswith("feed-")]
    # Once each, and a few `source:` filter values: 500 topics x 5,000 ids was the quadratic step.
    assert 5_000 <= len(source_ids) < 6_000, len(source_ids)


@pytest.mark.timeout(60)
def test_a_hundred_thousand_sources_and_two_thousand_topics_load(tmp_path: Path) -> None:
    # 1.1 million values written out (11 a source), no aliases: a big config, not an alias bomb,
    # though the limit once counted these too and refused it as one.
    config = load_config(write(tmp_path, config_text(100_000, 2_000)), {})
    assert len(config.sources) == 100_000
    assert len(config.topics) == 2_000
    assert config.sources[-1].url == "http://127.0.0.1:8765/feed/99999"
    assert {s.every.total_seconds() for s in config.sources} == set(range(10, 610))
    assert sum(s.enabled for s in config.sources) == 100_000 - len(range(0, 100_000, 13))
    assert config.channels[0].topics == tuple(f"topic-{t}" for t in range(0, 2_000, 3))


@pytest.mark.timeout(60)
def test_every_duplicate_is_still_reported_at_scale(tmp_path: Path) -> None:
    text = config_text(50_000, 2_000, duplicate_every=10)
    text = text.replace("    kind: rss\n", "    kind: rss\n    kind: rss\n", 3)  # duplicate keys
    text += "  - id: missing\n    chat_id: '-1001234567891'\n    topics: [topic-7, topik-12]\n"
    text = text.replace("source:feed-7*", "source:nofeed-7*")
    with pytest.raises(ConfigError) as refused:
        load_config(write(tmp_path, text), {})
    problems = refused.value.problems
    duplicate_sources = [p for p in problems if p.startswith("sources[") and "duplicate id" in p]
    assert len(duplicate_sources) == 5_000 - 1  # n = 10, 20, ... 49,990 (feed-0 is not repeated)
    assert duplicate_sources[0] == "sources[10].id: duplicate id 'feed-9' (also sources[9])"
    assert duplicate_sources[-1] == (
        "sources[49990].id: duplicate id 'feed-49989' (also sources[49989])"
    )
    duplicate_topics = [p for p in problems if p.startswith("topics[") and "duplicate id" in p]
    assert len(duplicate_topics) == 200 - 1
    assert "topics[1990].id: duplicate id 'topic-1989' (also topics[1989])" in duplicate_topics
    keys = [p for p in problems if "duplicate key 'kind'" in p]
    assert len(keys) == 3
    assert keys[0].endswith(f"line 6: duplicate key 'kind' (first at line 5; {KEEPS_LAST})")
    assert any(
        p.startswith("topics[") and p.endswith("source:nofeed-7* matches no configured source")
        for p in problems
    )
    assert "channels[1].topics[1]: unknown topic 'topik-12' (did you mean 'topic-12'?)" in problems


def test_libyaml_and_the_pure_python_parser_read_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "log_every: &often 1m\n" + config_text(300, 30)
    text = text.replace("every: 10s", "every: *often", 1).replace(
        "    kind: rss\n", "    kind: rss\n    kind: rss\n", 1
    )
    path = write(tmp_path, text)
    fast = bot.config.load.read_document(path)
    monkeypatch.setattr(bot.config.load, "LIBYAML", False)
    reference = bot.config.load.read_document(path)
    assert fast == reference
    assert fast[2] == [f"{path}: line 7: duplicate key 'kind' (first at line 6; {KEEPS_LAST})"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "sources: [@feed]\n",
            '(quote values that start with @ or `, e.g. chat_id: "@my_channel")',
        ),
        ("a: 1\n---\nb: 2\n", "expected a single document in the stream"),
        ("a: *nowhere\n", "found undefined alias 'nowhere'"),
    ],
)
def test_yaml_errors_read_as_before_whichever_parser_ran(
    tmp_path: Path, text: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config(write(tmp_path, text), {})
    assert problem in refused.value.problems[0]


@pytest.mark.parametrize("libyaml", [True, False])
def test_aliases_still_may_not_stand_for_a_million_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, libyaml: bool
) -> None:
    monkeypatch.setattr(bot.config.load, "LIBYAML", libyaml and bot.config.load.LIBYAML)
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 7)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as refused:
        load_config(path, {})  # l6 stands for 9^6 x 10 values: 5.3 million
    assert refused.value.problems == [
        f"{path}: line 7: aliases expand to more than 1,000,000 values (an alias bomb?)"
    ]


def test_the_cycle_collector_is_back_on_after_a_load_good_or_bad(tmp_path: Path) -> None:
    load_config(write(tmp_path, config_text(10, 2)), {})
    assert gc.isenabled()
    with pytest.raises(ConfigError):
        load_config(write(tmp_path, "sources: 1\n", "bad.yaml"), {})
    assert gc.isenabled()
    gc.disable()
    try:
        load_config(write(tmp_path, config_text(10, 2)), {})
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()
