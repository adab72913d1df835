"""`postwatch export`: stored posts, with their story and the topics and terms they matched,
as JSON Lines or CSV on stdout."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from bot.admin.export import write_export
from bot.cli.args import Moment, moment_at
from bot.cli.exit_codes import EXIT_CONFIG, EXIT_OK
from bot.cli.topics import unknown_topic
from bot.config.settings import Config
from bot.store.database import Store


def export(config: Config, fmt: str, since: Moment | None, topic: str | None) -> int:
    """`postwatch export [--format jsonl|csv] [--since 7d|ISO] [--topic ID]`."""
    start = moment_at(since, datetime.now(UTC)) if since is not None else None
    with Store.open(config.database_url, create=False) as store:
        if topic is not None and (problem := unknown_topic(topic, config, store)) is not None:
            print(f"postwatch: {problem}", file=sys.stderr)
            return EXIT_CONFIG
        rows = store.export_posts(since=start, topic_id=topic)
        write_export(rows, "csv" if fmt == "csv" else "jsonl", sys.stdout)
    return EXIT_OK
