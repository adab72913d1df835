"""Admin jobs that read the store: export."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import IO, Literal

from bot.model import ExportRow

ExportFormat = Literal["jsonl", "csv"]
EXPORT_FIELDS = ("source", "id", "url", "author", "title", "text", "published_at", "topics")


def _record(row: ExportRow) -> dict[str, object]:
    return {
        "source": row.source,
        "id": row.id,
        "url": row.url,
        "author": row.author,
        "title": row.title,
        "text": row.text,
        "published_at": row.published_at.isoformat() if row.published_at else None,
        "topics": list(row.topics),
    }


def write_export(rows: Iterable[ExportRow], fmt: ExportFormat, out: IO[str]) -> int:
    """Write rows as JSON Lines or CSV (topics joined with ';'); returns the row count."""
    count = 0
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(_record(row), ensure_ascii=False) + "\n")
            count += 1
        return count
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    for row in rows:
        record = _record(row)
        record["topics"] = ";".join(row.topics)
        writer.writerow(record)
        count += 1
    return count
