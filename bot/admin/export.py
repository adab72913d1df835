"""Export: stored posts written out as JSON Lines or CSV, one row per post."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import IO, Literal

from bot.model import ExportRow

ExportFormat = Literal["jsonl", "csv"]
EXPORT_FIELDS = (
    "source",
    "id",
    "url",
    "author",
    "title",
    "text",
    "published_at",
    "topics",
    "terms",
    "story",
)


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
        "terms": {topic: list(terms) for topic, terms in row.terms.items()},
        "story": row.story,
    }


def write_export(rows: Iterable[ExportRow], fmt: ExportFormat, out: IO[str]) -> int:
    """Write rows as JSON Lines or CSV; returns the row count.

    `terms` maps each matched topic id to the query terms that fired for it. In CSV, topics are
    joined with ';' (topic ids are slugs) and terms is that mapping as compact JSON: terms are
    query text, which may itself hold any separator ("a; b", `"x|y"~3`).
    """
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
        record["terms"] = json.dumps(record["terms"], ensure_ascii=False, separators=(",", ":"))
        writer.writerow(record)
        count += 1
    return count
