"""The `postwatch` command: parse arguments, call one command module, map errors to exit codes.

Exit codes: 0 done; 2 bad usage or invalid config; 3 cannot start (database unreachable).
Command modules are imported only when chosen, so `postwatch check` never loads the HTTP or
Telegram stacks.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from bot.cli.args import build_parser
from bot.cli.exit_codes import EXIT_CANNOT_START, EXIT_CONFIG, EXIT_OK
from bot.config.load import STORE_KEYS, load_config, resolve_config_path
from bot.config.settings import Config
from bot.errors import ConfigError, StoreError
from bot.log import counted, setup_logging


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    env = dict(os.environ)
    if args.command == "completion":
        from bot.cli.completion import completion

        return completion(parser, args.shell)
    try:
        if args.command == "demo":
            from bot.cli.demo import demo

            level = "WARNING" if args.log_level == "INFO" else args.log_level
            setup_logging(level, json=args.log_format == "json")
            return demo()
        config = _load(args, env)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"postwatch: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(
        args.log_level, json=args.log_format == "json", secrets=[config.telegram.token.reveal()]
    )
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


def _load(args: argparse.Namespace, env: dict[str, str]) -> Config:
    """The config; `topics test` makes do with what reading the database needs, so a broken
    topic elsewhere in the file does not stop an operator from trying another query."""
    path = resolve_config_path(args.config, env)
    try:
        return load_config(path, env)
    except ConfigError as exc:
        if args.command != "topics" or args.topics_command != "test":
            raise
        config = load_config(path, env, only=STORE_KEYS)
        print(
            f"postwatch: warning: {counted(len(exc.problems), 'problem')} in {path} "
            "(postwatch check lists them); testing the query on the stored posts anyway",
            file=sys.stderr,
        )
        return config


def _command(  # noqa: PLR0911 - one return per command: this is the dispatch table
    config: Config, args: argparse.Namespace, env: dict[str, str]
) -> int:
    """Run the chosen command with a loaded config."""
    if args.command == "check":
        from bot.cli.check import check

        return check(config, online=args.online)
    if args.command == "export":
        from bot.cli.export import export

        return export(config, args.format, args.since, args.topic)
    if args.command == "topics":
        from bot.cli.topics import topics

        return topics(config, args, env)
    if args.command == "stats":
        from bot.cli.stats import stats

        return stats(config, args.since)
    if args.command == "stories":
        from bot.cli.stories import stories

        return stories(config, args)
    if args.command == "sources":
        from bot.cli.sources import sources

        return sources(config, args, resolve_config_path(args.config, env))
    from bot.cli.run import run

    path = resolve_config_path(args.config, env)  # SIGHUP reads this file again
    return asyncio.run(run(config, once=args.once, reload=lambda: load_config(path, env)))
