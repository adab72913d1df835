"""The `postwatch` command line grammar: subcommands, their options, and option value parsers
that turn bad values into argparse's usual one-line error (exit 2)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from bot import __version__
from bot.config.values import parse_duration


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="postwatch", description="Monitor public feeds and alert Telegram channels."
    )
    parser.add_argument("--version", action="version", version=f"postwatch {__version__}")
    parser.add_argument(
        "--config",
        help="config file (default: $POSTWATCH_CONFIG, else config/postwatch.yaml)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="how much to log (default INFO)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="poll sources on their intervals until stopped")
    run.add_argument("--once", action="store_true", help="poll every source once, deliver, exit")
    commands.add_parser("demo", help="run the bundled offline demo and print its alerts")
    commands.add_parser("check", help="validate the config file")
    export = commands.add_parser("export", help="print stored posts")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--since", type=parse_since, help="ISO date or datetime (UTC if no zone)")
    export.add_argument("--topic", help="only posts that matched this topic id")
    topics = commands.add_parser("topics", help="preview a query; list topics and their matches")
    topic_commands = topics.add_subparsers(dest="topics_command", required=True, metavar="ACTION")
    preview = topic_commands.add_parser(
        "test", help="run a query over stored posts and print the matches, words marked"
    )
    preview.add_argument("query", help="a topic query, e.g. 'ceasefire AND (Ukraine OR Kyiv)'")
    preview.add_argument(
        "--since", type=parse_window, default="7d", help="how far back to look (default 7d)"
    )
    preview.add_argument(
        "--limit", type=parse_limit, default=20, help="matches to print, newest first (default 20)"
    )
    topic_commands.add_parser("list", help="each topic with its matches in the last 24h and 7d")
    stats = commands.add_parser(
        "stats", help="delivery latency, alerts sent and failed per channel, outbox backlog"
    )
    stats.add_argument(
        "--since", type=parse_window, default="24h", help="window to report (default 24h)"
    )
    stories = commands.add_parser(
        "stories", help="recent stories with the posts and sources that carried each"
    )
    stories.add_argument(
        "--since",
        type=parse_since_or_window,
        default="7d",
        help="stories first seen since an ISO date, or within a span like 24h (default 7d)",
    )
    stories.add_argument("--topic", help="only stories one of whose posts matched this topic id")
    stories.add_argument(
        "--min-posts", type=parse_limit, default=1, help="only stories carried this many times"
    )
    stories.add_argument(
        "--limit", type=parse_limit, default=50, help="stories to print, newest first (default 50)"
    )
    stories.add_argument("--format", choices=("text", "jsonl"), default="text")
    return parser


def parse_since_or_window(value: str) -> datetime | timedelta:
    try:
        return parse_duration(value)
    except ValueError:
        return parse_since(value)


def parse_since(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO date (e.g. 2026-03-18 or 2026-03-18T14:00:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_window(value: str) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parse_limit(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of matches (0 or more)")
    return int(value)
