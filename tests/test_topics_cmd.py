"""`postwatch topics test`, `postwatch topics list` and the terms in `export`, run through
bot.cli.main in-process against a store seeded the way polls fill it (real watchlist matches,
controlled post times), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Result, write_config

from bot.classify.watchlist import Watchlist
from bot.cli.entry import main
from bot.cli.topics import BOLD, GUILLEMETS, choose_marks, list_topics, mark, preview_query
from bot.config.load import load_config
from bot.errors import QueryError
from bot.log import QUIET_LOGGERS
from bot.model import Post, SourceState, TopicConfig
from bot.store.database import Store

CEASEFIRE = "ceasefire OR перемири*"
TOPICS = [
    {"id": "ceasefire", "name": "Ceasefire", "query": CEASEFIRE},
    {"id": "energy", "name": "Energy grid", "query": '"energy infrastructure"~2 AND -Gaza'},
    {"id": "quiet", "name": "Quiet", "query": "nasdaq"},
]
SOURCES = [
    {"id": "truth", "kind": "mastodon", "url": "https://truthsocial.example/@realDonaldTrump"},
    {"id": "zelensky", "kind": "telegram", "channel": "V_Zelenskiy_official"},
    {"id": "wire", "kind": "rss", "url": "https://wire.example/rss"},
]

Cli = Callable[..., Result]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Iterator[Cli]:
    """`postwatch ARGS` in this process; main() configures logging, undone afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    quiet = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}

    def run(*args: str) -> Result:
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    yield run
    for handler in [h for h in root.handlers if h not in saved[0]]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(saved[1])
    for name, level in quiet.items():
        logging.getLogger(name).setLevel(level)


def config_file(tmp_path: Path, db_url: str, topics: list[dict[str, str]] = TOPICS) -> Path:
    return write_config(
        tmp_path / "postwatch.yaml",
        {"database_url": db_url, "sources": SOURCES, "topics": topics},
    )


def seed(store: Store, config: Path, posts: list[Post], seen_at: datetime) -> None:
    """Store `posts` as one poll of their source would: matched by the configured topics."""
    loaded = load_config(config, {})
    kinds = {s.id: s.kind for s in loaded.sources}
    watchlist, problems = Watchlist.compile(loaded.topics)
    assert problems == []
    for source in sorted({p.source_id for p in posts}):
        batch = [p for p in posts if p.source_id == source]
        matches = {p.key: watchlist.match(p, kinds[source]) for p in batch}
        store.save_poll(SourceState(source, baseline_done=True), batch, matches, [], seen_at)


def truth(post_id: str, text: str, published: datetime | None, title: str | None = None) -> Post:
    return Post(
        "truth",
        post_id,
        text,
        url=f"https://truthsocial.example/@realDonaldTrump/{post_id}",
        author="Donald J. Trump",
        title=title,
        published_at=published,
    )


@pytest.fixture
def world(tmp_path: Path, db_url: str, store: Store) -> Path:
    """Posts an hour, two days, ten days old, an unrelated one, and an undated one first seen
    twenty days ago; times relative to now, with margins far wider than a test run."""
    now = datetime.now(UTC)
    config = config_file(tmp_path, db_url)
    seed(
        store,
        config,
        [
            truth(
                "101",
                "Putin agreed to an immediate CEASEFIRE on all Energy and Infrastructure!",
                now - timedelta(hours=1),
                title="Ceasefire call",
            ),
            truth("102", "Jobs, jobs, jobs! The economy is booming.", now - timedelta(hours=3)),
            Post(
                "zelensky",
                "7",
                "Україна готова до енергетичного перемирия. Перемирие — це шанс.",
                url="https://t.me/V_Zelenskiy_official/7",
                published_at=now - timedelta(days=2),
            ),
            truth("90", "Old ceasefire talk.", now - timedelta(days=10)),
        ],
        seen_at=now,
    )
    seed(store, config, [truth("50", "An undated ceasefire post.", None)], now - timedelta(days=20))
    return config


def test_topics_test_prints_matches_newest_first_with_words_marked(world: Path, cli: Cli) -> None:
    result = cli("--config", str(world), "topics", "test", CEASEFIRE)

    assert result.code == 0, result.stderr
    out = result.stdout
    assert "\x1b[" not in out  # not a terminal: markers, not ANSI
    assert out.index("/@realDonaldTrump/101") < out.index("t.me/V_Zelenskiy_official/7")
    assert "Putin agreed to an immediate «CEASEFIRE» on all Energy" in out
    assert "«Ceasefire» call" in out  # the title too
    assert "Donald J. Trump" in out and "truth" in out
    assert "енергетичного «перемирия». «Перемирие» — це шанс." in out
    assert "Jobs, jobs" not in out  # in the window, not matched
    assert "Old ceasefire" not in out and "undated" not in out  # older than 7 days
    assert out.rstrip().endswith("2 of 3 posts matched in the last 7d")


def test_topics_test_honours_since_and_limit(world: Path, cli: Cli) -> None:
    wide = cli("--config", str(world), "topics", "test", "ceasefire", "--since", "30d")
    assert wide.code == 0, wide.stderr
    for shown in ("/101", "/90", "/50"):  # the undated post counts by when it was first seen
        assert f"@realDonaldTrump{shown}" in wide.stdout
    assert wide.stdout.rstrip().endswith("3 of 5 posts matched in the last 30d")

    limited = cli("--config", str(world), "topics", "test", "ceasefire", "--since=30d", "--limit=1")
    assert "/101" in limited.stdout and "/90" not in limited.stdout and "/50" not in limited.stdout
    assert "3 of 5 posts matched in the last 30d (newest 1 shown" in limited.stdout

    narrow = cli("--config", str(world), "topics", "test", "ceasefire", "--since", "30m")
    assert narrow.stdout.strip() == "0 of 0 posts matched in the last 30m"

    count_only = cli("--config", str(world), "topics", "test", "jobs", "--limit", "0")
    assert count_only.stdout.strip().startswith("1 of 3 posts matched")


def test_topics_test_fields_and_proximity_see_the_source(world: Path, cli: Cli) -> None:
    by_kind = cli("--config", str(world), "topics", "test", "kind:telegram AND перемири*")
    assert "t.me/V_Zelenskiy_official/7" in by_kind.stdout
    assert "@realDonaldTrump" not in by_kind.stdout
    near = cli("--config", str(world), "topics", "test", "ceasefire NEAR/5 energy")
    assert "«CEASEFIRE» on all «Energy»" in near.stdout
    assert near.stdout.rstrip().endswith("1 of 3 posts matched in the last 7d")


@pytest.mark.parametrize(
    ("query", "message", "column"),
    [
        ("ceasefire AND (Ukraine OR Putin", "unbalanced parenthesis at column 15", 15),
        ('ceasefire OR ""', "empty phrase at column 14", 14),
        ("NOT ceasefire -Gaza", "a query made only of NOT terms would match almost every", 1),
        ("Україна AND (NOT Росія", "unbalanced parenthesis at column 13", 13),
        ("ceasefire NEAR/x Ukraine", "bad proximity", 11),
    ],
)
def test_a_bad_query_exits_2_with_a_caret_under_its_column(
    tmp_path: Path, cli: Cli, query: str, message: str, column: int
) -> None:
    # A database nobody listens on: a bad query must be refused before it is opened.
    config = config_file(tmp_path, "postgresql+psycopg://postwatch@127.0.0.1:1/nowhere")
    result = cli("--config", str(config), "topics", "test", query)

    assert result.code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("postwatch: bad query: ") and message in lines[0]
    assert lines[1] == f"  {query}"
    assert lines[2] == "  " + " " * (column - 1) + "^"


def test_the_caret_allows_for_wide_characters(tmp_path: Path, cli: Cli) -> None:
    config = config_file(tmp_path, "postgresql+psycopg://postwatch@127.0.0.1:1/nowhere")
    result = cli("--config", str(config), "topics", "test", "停火 AND (")
    lines = result.stderr.splitlines()
    assert result.code == 2 and "unbalanced parenthesis at column 8" in lines[0]
    assert lines[2].index("^") == 2 + 2 * 2 + len(" AND ")  # each Han character is two cells


def table(out: str) -> dict[str, list[str]]:
    """Rows of the `topics list` table by topic id: [24h, 7d, rest of the line]."""
    rows = {}
    for line in out.splitlines()[1:]:
        if line and not line.startswith(" ") and "topics" not in line.split()[0]:
            topic, day, week, rest = line.split(maxsplit=3)
            rows[topic] = [day, week, rest]
    return rows


def test_topics_list_counts_stored_matches_per_window(world: Path, cli: Cli) -> None:
    result = cli("--config", str(world), "topics", "list")

    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[0].split() == ["TOPIC", "24H", "7D", "NAME", "QUERY"]
    rows = table(result.stdout)
    assert rows["ceasefire"][:2] == ["1", "2"]  # 1 hour and 2 days old; 10 and 20 days are not
    assert rows["ceasefire"][2].startswith("Ceasefire  ")
    assert rows["ceasefire"][2].endswith(f"  {CEASEFIRE}")
    assert rows["energy"][:2] == ["1", "1"]
    assert rows["energy"][2].startswith('Energy grid  "energy infrastructure"~2 AND -Gaza')
    assert rows["quiet"][:2] == ["0", "0"]
    assert "3 topics;" in result.stdout and "disabled" not in result.stdout


def test_topics_list_shows_a_disabled_topic_with_its_error(
    world: Path, store: Store, cli: Cli
) -> None:
    # The config file refuses bad queries outright (`postwatch check`); a topic that reaches
    # the watchlist and still fails to compile is listed, disabled, with the reason.
    config = load_config(world, {})
    broken = replace(config, topics=(*config.topics, TopicConfig("broken", "Broken", "(a OR b")))
    out = io.StringIO()
    problems = list_topics(broken, store, now=datetime.now(UTC), out=out)

    assert [p.topic_id for p in problems] == ["broken"]
    lines = out.getvalue().splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("broken"))
    assert lines[row].split()[1:3] == ["0", "0"]
    assert lines[row + 1].strip() == "disabled: unbalanced parenthesis at column 1"
    assert table(out.getvalue())["ceasefire"][:2] == ["1", "2"]  # the others are unaffected
    assert "4 topics, 1 disabled" in lines[-1]


T0 = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_match_counts_windows_are_inclusive_and_by_post_time(store: Store, tmp_path: Path) -> None:
    config = config_file(tmp_path, "sqlite:///unused.db")
    posts = [
        truth("edge-day", "ceasefire", T0 - timedelta(hours=24)),  # exactly on the 24h edge
        truth("in-week", "ceasefire", T0 - timedelta(days=6)),
        truth("edge-week", "ceasefire", T0 - timedelta(days=7)),
        truth("too-old", "ceasefire", T0 - timedelta(days=7, seconds=1)),
        truth("future", "ceasefire", T0 + timedelta(hours=1)),  # a clock ahead of ours
    ]
    seed(store, config, posts, seen_at=T0)
    seed(store, config, [truth("undated", "ceasefire", None)], seen_at=T0 - timedelta(hours=2))

    counts = store.topic_match_counts([T0 - timedelta(hours=24), T0 - timedelta(days=7)])
    assert counts == {"ceasefire": (3, 5)}
    assert store.topic_match_counts([]) == {}


def test_recent_posts_streams_newest_first_with_post_times(store: Store, tmp_path: Path) -> None:
    config = config_file(tmp_path, "sqlite:///unused.db")
    posts = [truth(f"p{n}", f"post {n}", T0 - timedelta(minutes=n)) for n in range(1200)]
    seed(store, config, posts, seen_at=T0)
    seed(store, config, [truth("undated", "x", None)], seen_at=T0 - timedelta(seconds=90))

    streamed = list(store.recent_posts(T0 - timedelta(minutes=1000)))
    assert len(streamed) == 1002  # p0..p1000 and the undated one, across several batches
    assert [when for _, when in streamed] == sorted((w for _, w in streamed), reverse=True)
    assert streamed[0] == (posts[0], T0)
    assert ("undated", T0 - timedelta(seconds=90)) in {(p.post_id, w) for p, w in streamed}
    assert all(when.tzinfo is not None for _, when in streamed)


def test_preview_counts_every_post_but_prints_only_the_limit(store: Store, tmp_path: Path) -> None:
    path = config_file(tmp_path, "sqlite:///unused.db")
    posts = [truth(f"p{n}", f"ceasefire number {n}", T0 - timedelta(minutes=n)) for n in range(50)]
    seed(store, path, posts, seen_at=T0)
    config = load_config(path, {})
    out = io.StringIO()

    def preview(query: str, since: timedelta) -> tuple[int, int, int]:
        report = preview_query(query, store, config, since=since, limit=5, now=T0, out=out)
        return report.matched, report.scanned, report.shown

    assert preview("ceasefire AND NOT number", timedelta(days=1)) == (0, 50, 0)
    assert preview("ceasefire", timedelta(hours=1)) == (50, 50, 5)

    with pytest.raises(QueryError) as bad:
        preview_query("(", store, config, since=DAY, limit=5, now=T0, out=out)
    assert (bad.value.message, bad.value.column) == ("unbalanced parenthesis", 1)
    assert out.getvalue().count("«ceasefire» number") == 5


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_bold_unless_no_color() -> None:
    assert choose_marks(Terminal(), {}) is BOLD
    assert choose_marks(Terminal(), {"NO_COLOR": "1"}) is GUILLEMETS
    assert choose_marks(io.StringIO(), {}) is GUILLEMETS
    assert mark("A CEASEFIRE now", ["ceasefire"], BOLD) == "A \x1b[1mCEASEFIRE\x1b[22m now"


def test_control_characters_in_posts_never_reach_the_terminal() -> None:
    text = "ceasefire\x1b]0;pwned\x07 now\x1b[2J\r\n\tnext"
    marked = mark(text, ["ceasefire", "now"], GUILLEMETS)
    assert marked == "«ceasefire» ]0;pwned  «now» [2J \n\tnext"


def export(cli: Cli, config: Path, fmt: str) -> str:
    result = cli("--config", str(config), "export", "--format", fmt)
    assert result.code == 0, result.stderr
    return result.stdout


def test_export_rows_carry_the_terms_that_fired(world: Path, cli: Cli) -> None:
    rows = {r["id"]: r for r in map(json.loads, export(cli, world, "jsonl").splitlines())}
    assert rows["101"]["topics"] == ["ceasefire", "energy"]
    assert rows["101"]["terms"] == {
        "ceasefire": ["ceasefire"],
        "energy": ['"energy infrastructure"~2'],
    }
    assert rows["7"]["terms"] == {"ceasefire": ["перемири*"]}
    assert rows["102"]["terms"] == {}

    records: dict[str, Any] = {
        r["id"]: r for r in csv.DictReader(io.StringIO(export(cli, world, "csv")))
    }
    assert records["101"]["topics"] == "ceasefire;energy"
    assert json.loads(records["101"]["terms"]) == rows["101"]["terms"]
    assert json.loads(records["102"]["terms"]) == {}
