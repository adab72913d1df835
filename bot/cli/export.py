"""`postwatch export`: stored posts, with their story and the topics and terms they matched,
as JSON Lines or CSV on stdout."""

from __future__ import annotations

import sys
from datetime import datetime

from bot.admin.export import write_export
from bot.cli.exit_codes import EXIT_OK
from bot.config.settings import Config
from bot.store.database import Store


def export(config: Config, fmt: str, since: datetime | None, topic: str | None) -> int:
    with Store.open(config.database_url) as store:
        rows = store.export_posts(since=since, topic_id=topic)
        write_export(rows, "csv" if fmt == "csv" else "jsonl", sys.stdout)
    return EXIT_OK
