"""The `postwatch` command: parse arguments, call one function, map errors to exit codes.

Exit codes: 0 done; 2 bad usage or invalid config; 3 cannot start (database unreachable).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli_args import build_parser
from bot.config import Config, load_config, resolve_config_path
from bot.errors import ConfigError, StoreError
from bot.log import setup_logging

if TYPE_CHECKING:
    from bot.store import Store

EXIT_OK = 0
EXIT_CONFIG = 2
EXIT_CANNOT_START = 3

log = logging.getLogger("bot.cli")


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


@contextmanager
def _opened(config: Config) -> Iterator[Store]:
    from bot.store import Store

    store = Store.open(config.database_url)
    try:
        yield store
    finally:
        store.close()


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

    with _opened(config) as store:
        rows = store.export_posts(since=since, topic_id=topic)
        write_export(rows, "csv" if fmt == "csv" else "jsonl", sys.stdout)
    return EXIT_OK


def _stats(config: Config, window: timedelta) -> int:
    from bot.stats import format_stats

    now = datetime.now(UTC)
    with _opened(config) as store:
        stats = store.delivery_stats(now - window)
    for line in format_stats(stats, now, [c.id for c in config.channels]):
        print(line)
    return EXIT_OK


def _stories(config: Config, args: argparse.Namespace) -> int:
    from bot.stories_cmd import list_stories

    since = args.since if isinstance(args.since, datetime) else datetime.now(UTC) - args.since
    with _opened(config) as store:
        list_stories(
            store,
            since=since,
            topic_id=args.topic,
            min_posts=args.min_posts,
            limit=args.limit,
            fmt="jsonl" if args.format == "jsonl" else "text",
            out=sys.stdout,
        )
    return EXIT_OK


def _topics(config: Config, args: argparse.Namespace, env: dict[str, str]) -> int:
    from bot.errors import QueryError
    from bot.query import parse_query
    from bot.topics_cmd import choose_marks, list_topics, preview_query, query_error_lines

    if args.topics_command == "test":
        try:
            parse_query(args.query)  # a bad query is reported before the database is opened
        except QueryError as exc:
            first, *rest = query_error_lines(args.query, exc)
            print(f"postwatch: {first}", *rest, sep="\n", file=sys.stderr)
            return EXIT_CONFIG
    now = datetime.now(UTC)
    with _opened(config) as store:
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
        "run complete: %d sources polled (%d failed), %d new posts, %d copies of alerted "
        "stories, %d alerts sent (%d digests), %d edited, %d waiting to retry, %d failed, "
        "%d uncertain",
        len(polls),
        len(failed),
        sum(p.stored for p in polls),
        sum(p.joined for p in polls),
        delivery.sent,
        delivery.digests,
        delivery.edits,
        delivery.retrying,
        delivery.failed,
        delivery.uncertain,
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
