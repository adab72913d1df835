"""Export: stored posts written out as JSON Lines or CSV, one row per post."""

from __future__ import annotations

import csv
import json
import re
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
        writer.writerow({k: csv_cell(v) if isinstance(v, str) else v for k, v in record.items()})
        count += 1
    return count


# https://owasp.org/www-community/attacks/CSV_Injection: a cell starting with one of these is a
# formula to Excel, LibreOffice and Google Sheets (=HYPERLINK(...) reaching out, DDE, ...).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Controls other than tab and newline; JSON Lines escapes them, CSV would write them raw.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def csv_cell(text: str) -> str:
    """Feed text made safe for a spreadsheet: controls removed, a formula start quoted with `'`
    (OWASP's rule; the cell then shows as text, the quote visible only in the formula bar)."""
    text = _CONTROLS.sub("", text.replace("\r\n", "\n"))
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text
