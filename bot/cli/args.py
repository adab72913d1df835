"""The `postwatch` command line grammar: subcommands, their options, and option value parsers
that turn bad values into argparse's usual one-line error (exit 2).

The global options (--config, --log-level, --log-format) are accepted before or after the
subcommand: each subcommand declares them again with SUPPRESS defaults, so a value given after
it wins and an absent one leaves the value given before it (or the default) in place.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from bot import __version__
from bot.config.values import parse_duration

EXIT_CODES = """exit codes:
  0  done
  2  bad usage, an invalid config or query, a bot token Telegram refuses
  3  the database cannot be opened"""
RUN_EXIT_CODES = (
    EXIT_CODES
    + """
  4  run --once: a source failed, or was not polled while it waits out a backoff
  5  run --once: an alert failed, or is still waiting after the run (before 4)"""
)

# A point in time as written on the command line: a span back from now ("24h") or an ISO date.
Moment = datetime | timedelta
MOMENT_HELP = "a span back from now (90m, 24h, 7d) or an ISO date or time, UTC if no zone"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="postwatch",
        description="Monitor public feeds and alert Telegram channels.",
        epilog=f"Run 'postwatch COMMAND --help' for a command's options.\n\n{RUN_EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"postwatch {__version__}")
    _global_options(parser, defaults=True)
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, defaults=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, summary: str, example: str, details: str = "", codes: str = EXIT_CODES
    ) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            parents=[common],
            help=summary,
            description=f"{summary[0].upper()}{summary[1:]}.{details}",
            epilog=f"example:\n  {example}\n\n{codes}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    run = command(
        "run",
        "poll sources on their intervals and deliver alerts until stopped",
        "postwatch --config config/postwatch.yaml run",
        " SIGTERM or SIGINT finish in-flight work and exit 0; SIGHUP re-reads the config.",
        codes=RUN_EXIT_CODES,
    )
    run.add_argument("--once", action="store_true", help="poll every source once, deliver, exit")
    command(
        "demo",
        "run the bundled offline demo and print the alerts it would send",
        "postwatch demo",
        " Sample feeds shipped with postwatch, a temporary SQLite database, no network.",
    )
    check = command(
        "check",
        "validate the config file and say what it holds",
        "postwatch check --config config/postwatch.yaml --online",
        " Every problem is listed with its key path. Nothing is fetched or stored unless "
        "--online asks Telegram whether it accepts the bot token.",
    )
    check.add_argument(
        "--online", action="store_true", help="also ask Telegram (getMe) whether the token works"
    )
    export = command(
        "export",
        "print stored posts as JSON Lines or CSV",
        "postwatch export --format csv --since 7d --topic ukraine-ceasefire > posts.csv",
        " Each row carries its story id and the topics and query terms it matched.",
    )
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--since", type=parse_moment, help=MOMENT_HELP)
    export.add_argument("--topic", help="only posts that matched this topic id")
    topics = command(
        "topics",
        "preview a query on stored posts; list topics and their matches",
        "postwatch topics test '(ceasefire OR truce) AND Ukraine' --since 30d",
    )
    topic_commands = topics.add_subparsers(dest="topics_command", required=True, metavar="ACTION")
    preview = topic_commands.add_parser(
        "test",
        parents=[common],
        help="run a query over stored posts and print the matches, words marked",
        description="Run a query over the stored posts of a window and print the newest "
        "matches with the matched words marked; a bad query exits 2 with a caret under it.",
        epilog=f"example:\n  postwatch topics test 'ceasefire -Gaza' --limit 5\n\n{EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    preview.add_argument("query", help="a topic query, e.g. 'ceasefire AND (Ukraine OR Kyiv)'")
    preview.add_argument("--since", type=parse_moment, default="7d", help=MOMENT_HELP + " (7d)")
    preview.add_argument(
        "--limit", type=parse_limit, default=20, help="matches to print, newest first (default 20)"
    )
    preview.add_argument("--format", choices=("text", "jsonl"), default="text")
    topic_commands.add_parser(
        "list",
        parents=[common],
        help="each topic with its matches in the last 24h and 7d",
        description="Each configured topic with its stored matches in the last 24 hours and "
        "7 days, its name and query; a topic disabled by a bad query shows its error.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    stats = command(
        "stats",
        "delivery latency, alerts sent and failed per channel, outbox backlog",
        "postwatch stats --since 7d",
    )
    stats.add_argument("--since", type=parse_moment, default="24h", help=MOMENT_HELP + " (24h)")
    sources = command(
        "sources",
        "import sources from an OPML file, or export them as OPML or YAML",
        "postwatch sources import subscriptions.opml --write",
        " Import checks every URL as the config does (the private-address guard included)"
        " and says, line by line, what it adds and what it skips and why.",
    )
    source_commands = sources.add_subparsers(
        dest="sources_command", required=True, metavar="ACTION"
    )
    opml_in = source_commands.add_parser(
        "import", parents=[common], help="add the feeds of an OPML file (a feed reader's export)"
    )
    opml_in.add_argument("file", help="the OPML file")
    opml_in.add_argument(
        "--write",
        action="store_true",
        help="append them to the config file (else print them as a sources: block)",
    )
    opml_out = source_commands.add_parser(
        "export", parents=[common], help="print the configured sources"
    )
    opml_out.add_argument("--format", choices=("opml", "yaml"), default="opml")
    shells = command(
        "completion",
        "print a shell completion script for postwatch",
        'eval "$(postwatch completion bash)"    # in ~/.bashrc',
    )
    shells.add_argument("shell", choices=("bash", "zsh"))
    stories = command(
        "stories",
        "recent stories with the posts and sources that carried each",
        "postwatch stories --since 24h --min-posts 2",
        " A story is one text however many accounts and platforms repeated it.",
    )
    stories.add_argument("--since", type=parse_moment, default="7d", help=MOMENT_HELP + " (7d)")
    stories.add_argument("--topic", help="only stories one of whose posts matched this topic id")
    stories.add_argument(
        "--min-posts", type=parse_limit, default=1, help="only stories carried this many times"
    )
    stories.add_argument(
        "--limit", type=parse_limit, default=50, help="stories to print, newest first (default 50)"
    )
    stories.add_argument("--format", choices=("text", "jsonl"), default="text")
    return parser


def _global_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """--config, --log-level, --log-format; without defaults (SUPPRESS) on subcommands."""
    keep = argparse.SUPPRESS
    parser.add_argument(
        "--config",
        default=None if defaults else keep,
        help="config file (default: $POSTWATCH_CONFIG, else config/postwatch.yaml)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO" if defaults else keep,
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="how much to log (default INFO)",
    )
    parser.add_argument(
        "--log-format",
        default="text" if defaults else keep,
        choices=("text", "json"),
        help="log lines as text or as one JSON object each (default text)",
    )


def parse_moment(value: str) -> Moment:
    """A span back from now ("24h") or an ISO date/time; every --since and --until takes both."""
    try:
        return parse_duration(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is neither a span such as 24h or 7d nor an ISO date "
            "such as 2026-03-18 or 2026-03-18T14:00:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def moment_at(moment: Moment, now: datetime) -> datetime:
    """The datetime a parsed --since/--until names, with spans counted back from `now`."""
    return now - moment if isinstance(moment, timedelta) else moment


def parse_limit(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of matches (0 or more)")
    return int(value)
