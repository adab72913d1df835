"""Timestamps as sources write them, read into timezone-aware UTC datetimes.

A timestamp that cannot be read gives None: one bad date never costs the post or the feed.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_YEAR_MONTH = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{2}))?$")


def parse_timestamp(value: object) -> datetime | None:
    """RFC 3339 / W3C-DTF (Atom, dc:date, JSON Feed, Mastodon, Bluesky) or RFC 822/1123 (RSS).

    A timestamp without a zone is taken as UTC, as RFC 822 reads "-0000".
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    parsed = _iso(text) or _rfc822(text)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 pushed past the calendar by its offset
        return None


def from_struct_time(value: object) -> datetime | None:
    """feedparser's `*_parsed` values: a struct_time already normalised to UTC."""
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except ValueError:
        return None


def _iso(text: str) -> datetime | None:
    if not text[:4].isdigit():
        return None
    if (reduced := _YEAR_MONTH.match(text)) is not None:
        # W3C-DTF (the profile dc:date and Atom 0.3 use) allows "YYYY" and "YYYY-MM" too.
        try:
            return datetime(int(reduced["year"]), int(reduced["month"] or 1), 1)
        except ValueError:
            return None
    try:
        # Python 3.11 reads "Z", any number of fraction digits and date-only values.
        return datetime.fromisoformat(text.upper())
    except ValueError:
        return None


def _rfc822(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
