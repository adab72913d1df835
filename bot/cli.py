"""The `postwatch` command: parse arguments, call one function, map errors to exit codes.

Exit codes: 0 done; 2 bad usage or invalid config; 3 cannot start (database unreachable).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot import __version__
from bot.config import Config, load_config, resolve_config_path
from bot.config_values import parse_duration
from bot.errors import ConfigError, StoreError
from bot.log import setup_logging

EXIT_OK = 0
EXIT_CONFIG = 2
EXIT_CANNOT_START = 3

log = logging.getLogger("bot.cli")


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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    env = dict(os.environ)
    try:
        if args.command == "demo":
            setup_logging("WARNING" if args.log_level == "INFO" else args.log_level)
            return _demo()
        config = load_config(resolve_config_path(args.config, env), env)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"postwatch: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(args.log_level, secrets=[config.telegram.token.reveal()])
    try:
        return _command(config, args, env)
    except StoreError as exc:
        print(f"postwatch: cannot open the database: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START
    except BrokenPipeError:
        # `postwatch export | head`: the reader has what it wanted. Point stdout at /dev/null
        # so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _command(config: Config, args: argparse.Namespace, env: dict[str, str]) -> int:
    """Run the chosen command with a loaded config."""
    if args.command == "check":
        return _check(config)
    if args.command == "export":
        return _export(config, args.format, args.since, args.topic)
    if args.command == "topics":
        return _topics(config, args, env)
    if args.command == "stats":
        return _stats(config, args.since)
    if args.command == "stories":
        return _stories(config, args)
    path = resolve_config_path(args.config, env)  # SIGHUP reads this file again
    return asyncio.run(_run(config, once=args.once, reload=lambda: load_config(path, env)))


def _check(config: Config) -> int:
    print(
        f"config OK: {len(config.sources)} sources "
        f"({sum(1 for s in config.sources if s.enabled)} enabled), "
        f"{len(config.topics)} topics, {len(config.channels)} channels, "
        f"alerts to {'Telegram' if config.telegram.token else 'the console (no bot token set)'}"
    )
    return EXIT_OK


def _export(config: Config, fmt: str, since: datetime | None, topic: str | None) -> int:
    from bot.admin import write_export
    from bot.store import Store

    store = Store.open(config.database_url)
    try:
        rows = store.export_posts(since=since, topic_id=topic)
        write_export(rows, "csv" if fmt == "csv" else "jsonl", sys.stdout)
    finally:
        store.close()
    return EXIT_OK


def _stats(config: Config, window: timedelta) -> int:
    from bot.stats import format_stats
    from bot.store import Store

    store = Store.open(config.database_url)
    try:
        now = datetime.now(UTC)
        stats = store.delivery_stats(now - window)
    finally:
        store.close()
    for line in format_stats(stats, now, [c.id for c in config.channels]):
        print(line)
    return EXIT_OK


def _stories(config: Config, args: argparse.Namespace) -> int:
    from bot.store import Store
    from bot.stories_cmd import list_stories

    since = args.since if isinstance(args.since, datetime) else datetime.now(UTC) - args.since
    store = Store.open(config.database_url)
    try:
        list_stories(
            store,
            since=since,
            topic_id=args.topic,
            min_posts=args.min_posts,
            limit=args.limit,
            fmt="jsonl" if args.format == "jsonl" else "text",
            out=sys.stdout,
        )
    finally:
        store.close()
    return EXIT_OK


def _topics(config: Config, args: argparse.Namespace, env: dict[str, str]) -> int:
    from bot.errors import QueryError
    from bot.query import parse_query
    from bot.store import Store
    from bot.topics_cmd import choose_marks, list_topics, preview_query, query_error_lines

    if args.topics_command == "test":
        try:
            parse_query(args.query)  # a bad query is reported before the database is opened
        except QueryError as exc:
            first, *rest = query_error_lines(args.query, exc)
            print(f"postwatch: {first}", *rest, sep="\n", file=sys.stderr)
            return EXIT_CONFIG
    store = Store.open(config.database_url)
    try:
        now = datetime.now(UTC)
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
            )
    finally:
        store.close()
    return EXIT_OK


async def _run(config: Config, *, once: bool, reload: Callable[[], Config] | None = None) -> int:
    from bot.app import open_runtime, run_once, run_until_stopped

    runtime = await open_runtime(config)
    if not once:
        await run_until_stopped(runtime, reload=reload)
        return EXIT_OK
    try:
        polls, delivery = await run_once(runtime)
    finally:
        await runtime.close()
    failed = [p for p in polls if p.error]
    log.info(
        "run complete: %d sources polled (%d failed), %d new posts, %d alerts sent, "
        "%d waiting to retry, %d failed",
        len(polls),
        len(failed),
        sum(p.stored for p in polls),
        delivery.sent,
        delivery.retrying,
        delivery.failed,
    )
    return EXIT_OK


def _demo() -> int:
    from bot.app import open_runtime, run_once
    from bot.demo import demo_config, demo_transport, temporary_workdir

    async def demo(config: Config) -> None:
        runtime = await open_runtime(config, transport=demo_transport())
        try:
            polls, delivery = await run_once(runtime)
        finally:
            await runtime.close()
        print(
            f"\ndemo: {len(polls)} sources polled, {sum(p.stored for p in polls)} posts stored, "
            f"{delivery.sent} alerts printed above (no bot token: console instead of Telegram)."
        )
        for poll in polls:
            if poll.error:
                print(f"demo: source {poll.source_id} failed: {poll.error}")

    with temporary_workdir() as workdir:
        asyncio.run(demo(demo_config(Path(workdir))))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
