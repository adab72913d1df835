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
from bot.config.load import load_config, resolve_config_path
from bot.config.settings import Config
from bot.errors import ConfigError, StoreError
from bot.log import setup_logging


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    env = dict(os.environ)
    try:
        if args.command == "demo":
            from bot.cli.demo import demo

            setup_logging("WARNING" if args.log_level == "INFO" else args.log_level)
            return demo()
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
        from bot.cli.check import check

        return check(config)
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
    from bot.cli.run import run

    path = resolve_config_path(args.config, env)  # SIGHUP reads this file again
    return asyncio.run(run(config, once=args.once, reload=lambda: load_config(path, env)))
