"""`postwatch topics test` and `postwatch topics list`: preview a query on stored posts before
switching it on, and see what each configured topic has been catching.

Formatting is pure (`mark`, `format_match`, `query_error_lines`, `format_topic_table`); the two
command functions only stream from the store and write. `now` is always a parameter.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO

from bot.classify.query import parse_query
from bot.classify.watchlist import TopicProblem, Watchlist, highlight_spans
from bot.cli.args import Moment, moment_at
from bot.cli.exit_codes import EXIT_CONFIG, EXIT_OK
from bot.cli.terminal import clean_for_terminal
from bot.config.settings import Config
from bot.config.values import format_duration, suggestion
from bot.errors import QueryError
from bot.model import Post, TopicConfig
from bot.store.database import Store

# `topics list` windows: label and span.
WINDOWS: tuple[tuple[str, timedelta], ...] = (
    ("24H", timedelta(hours=24)),
    ("7D", timedelta(days=7)),
)


@dataclass(frozen=True, slots=True)
class Marks:
    """What goes around a matched word: ANSI bold on a terminal, guillemets in a file or pipe."""

    open: str
    close: str


BOLD = Marks("\x1b[1m", "\x1b[22m")  # SGR 1 bold, SGR 22 normal intensity (ECMA-48)
GUILLEMETS = Marks("«", "»")


def choose_marks(stream: IO[str], env: Mapping[str, str]) -> Marks:
    """Bold on a terminal unless NO_COLOR is set (no-color.org); markers that survive a pipe."""
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty() and not env.get("NO_COLOR"):
        return BOLD
    return GUILLEMETS


@dataclass(frozen=True, slots=True)
class PreviewReport:
    matched: int
    scanned: int
    shown: int


def preview_query(
    query: str,
    store: Store,
    config: Config,
    *,
    since: Moment,
    limit: int,
    now: datetime,
    out: IO[str],
    marks: Marks = GUILLEMETS,
    jsonl: bool = False,
) -> PreviewReport:
    """Run `query` over the stored posts since `since`, newest first; print the first
    `limit` matches with their matched words marked, then "N of M posts matched" (`jsonl`: one
    JSON object per match, the terms that fired listed, and no summary line).

    The query is compiled once, the way the running bot compiles topics (a QueryError goes to
    the caller before anything is read), and the posts are streamed in batches. Every post
    of the window is matched so the count is exact, whatever `limit` says.
    """
    watchlist, problems = Watchlist.compile([TopicConfig("query", "query", query)])
    if problems:
        raise problems[0].error
    kinds = {source.id: source.kind for source in config.sources}
    matched = scanned = 0
    for post, when in store.recent_posts(moment_at(since, now)):
        scanned += 1
        # A source removed from the config has no kind: `kind:` filters do not match its posts.
        found = watchlist.match(post, kinds.get(post.source_id, ""))
        if not found:
            continue
        matched += 1
        if matched <= limit and jsonl:
            out.write(json.dumps(match_record(post, when, found[0].terms), ensure_ascii=False))
            out.write("\n")
        elif matched <= limit:
            out.write(format_match(post, when, found[0].terms, marks) + "\n\n")
    if jsonl:
        return PreviewReport(matched, scanned, min(matched, limit))
    window = (
        f"in the last {format_duration(since)}"
        if isinstance(since, timedelta)
        else f"since {since:%Y-%m-%d %H:%M} UTC"
    )
    summary = f"{matched} of {scanned} posts matched {window}"
    if matched > limit:
        summary += f" (newest {limit} shown; --limit shows more)"
    out.write(summary + "\n")
    return PreviewReport(matched, scanned, min(matched, limit))


def match_record(post: Post, when: datetime, terms: Sequence[str]) -> dict[str, object]:
    """One match for `--format jsonl`: the post in full, its time, and the terms that fired."""
    return {
        "source": post.source_id,
        "id": post.post_id,
        "url": post.url,
        "author": post.author,
        "title": post.title,
        "text": post.text,
        "published_at": post.published_at.isoformat() if post.published_at else None,
        "time": when.isoformat(),
        "terms": list(terms),
    }


def format_match(post: Post, when: datetime, terms: Sequence[str], marks: Marks) -> str:
    """A header line (time, source, author), the URL, then title and text with terms marked."""
    header = [when.strftime("%Y-%m-%d %H:%M UTC"), post.source_id]
    if post.author:
        header.append(clean_for_terminal(post.author))
    lines = ["  ".join(header)]
    if post.url:
        lines.append(clean_for_terminal(post.url))
    if post.title:
        lines.append(mark(post.title, terms, marks))
    lines.append(mark(post.text, terms, marks))
    return "\n".join(lines)


def mark(text: str, terms: Sequence[str], marks: Marks) -> str:
    """`text` with the words and phrases `terms` match wrapped in `marks`, controls blanked."""
    cleaned = clean_for_terminal(text)
    pieces: list[str] = []
    at = 0
    for start, end in highlight_spans(text, terms):
        pieces += [cleaned[at:start], marks.open, cleaned[start:end], marks.close]
        at = end
    pieces.append(cleaned[at:])
    return "".join(pieces)


def query_error_lines(query: str, error: QueryError) -> list[str]:
    """The error, then the query with a caret under the column it names."""
    shown = clean_for_terminal(query)
    before = shown[: max(error.column - 1, 0)]
    # East Asian wide characters take two terminal cells, combining marks none.
    pad = sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in before
    )
    return [f"bad query: {error}", f"  {shown}", "  " + " " * pad + "^"]


def list_topics(config: Config, store: Store, *, now: datetime, out: IO[str]) -> list[TopicProblem]:
    """Print every configured topic with its match counts per window; returns disabled ones."""
    _, problems = Watchlist.compile(config.topics, detect_lang=None)
    counts = store.topic_match_counts([now - span for _, span in WINDOWS])
    out.write(clean_for_terminal(format_topic_table(config.topics, counts, problems)))
    return problems


def format_topic_table(
    topics: Sequence[TopicConfig],
    counts: Mapping[str, Sequence[int]],
    problems: Sequence[TopicProblem],
) -> str:
    """One row per topic: id, matches per window, name, query; a disabled topic's error under
    its row. Counts are of stored matches, by post time (published, else first seen)."""
    if not topics:
        return "no topics configured\n"
    errors = {problem.topic_id: problem.error for problem in problems}
    zero = (0,) * len(WINDOWS)
    rows = [
        (topic.id, *map(str, counts.get(topic.id, zero)), topic.name, topic.query)
        for topic in topics
    ]
    header = ("TOPIC", *(label for label, _ in WINDOWS), "NAME", "QUERY")
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]

    def line(row: Sequence[str]) -> str:
        cells = [
            cell.rjust(width) if 0 < i <= len(WINDOWS) else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=False))
        ]
        return "  ".join([*cells, row[-1]]).rstrip()

    lines = [line(header)]
    for row in rows:
        lines.append(line(row))
        if row[0] in errors:
            lines.append(f"  disabled: {errors[row[0]]}")
    disabled = f", {len(errors)} disabled" if errors else ""
    count = f"{len(topics)} topic{'' if len(topics) == 1 else 's'}"
    lines.append(f"{count}{disabled}; matches stored in the last 24h and 7d")
    return "\n".join(lines) + "\n"


def unknown_topic(topic: str, config: Config, store: Store) -> str | None:
    """Why `--topic` names nothing, with a "did you mean": no configured topic and no stored
    match has that id (a topic since removed from the config still has its history)."""
    known = {t.id for t in config.topics}
    if topic in known:
        return None
    known |= set(store.topic_match_counts([datetime.min.replace(tzinfo=UTC)]))
    if topic in known:
        return None
    return f"--topic {topic!r}: no such topic{suggestion(topic, known)}"


_QUOTES = frozenset('"“”„«»')
# An operator word in lower case between two terms: almost always meant as the operator.
_LOWER_OPERATOR = re.compile(r"(?<=\S)\s+(and|or|not|near(?:/\d+)?)\s+(?=[^\s)])")


def lowercase_operator_hints(query: str) -> list[str]:
    """A hint for each `and`, `or`, `not` or `near` written in lower case between terms
    outside phrases: operators are upper case, so these are searched as words."""
    inside = False
    blanked = []
    for char in query:  # phrases blanked, so their words are left alone; columns kept
        quote = char in _QUOTES
        blanked.append('"' if quote else " " if inside else char)
        inside = inside != quote
    return [
        f"'{m[1]}' at column {m.start(1) + 1} is searched as a word; operators are upper "
        f"case: write {m[1].upper()} to combine the terms around it"
        for m in _LOWER_OPERATOR.finditer("".join(blanked))
    ]


def topics(config: Config, args: argparse.Namespace, env: dict[str, str]) -> int:
    """`postwatch topics test 'QUERY'` and `postwatch topics list`."""
    if args.topics_command == "test":
        try:
            parse_query(args.query)  # a bad query is reported before the database is opened
        except QueryError as exc:
            first, *rest = query_error_lines(args.query, exc)
            print(f"postwatch: {first}", *rest, sep="\n", file=sys.stderr)
            return EXIT_CONFIG
        for hint in lowercase_operator_hints(args.query):
            print(f"postwatch: warning: {hint}", file=sys.stderr)
    now = datetime.now(UTC)
    with Store.open(config.database_url, create=False) as store:
        if args.topics_command == "list":
            list_topics(config, store, now=now, out=sys.stdout)
        else:
            preview_query(
                args.query,
                store,
                config,
                since=args.since,
                limit=args.limit,
                now=now,
                out=sys.stdout,
                marks=choose_marks(sys.stdout, env),
                jsonl=args.format == "jsonl",
            )
    return EXIT_OK
