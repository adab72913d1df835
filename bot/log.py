"""Logging: one stderr handler on the root logger, and the bot token kept out of every line.

python-telegram-bot sends requests to `{base_url}{token}/{method}`, and httpx logs each request
URL at INFO, so a token can reach a log through a message, its arguments or an exception's text.
The handler's filter rewrites every record it sees: the message is formatted and redacted, and
the traceback is rendered and redacted, before any formatter runs; the formatters redact their
output once more. stdout stays free for `postwatch export` and the demo's alerts.
"""

from __future__ import annotations

import json as jsonlib
import logging
import re
import sys
import traceback
from collections.abc import Hashable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TextIO

REDACTED = "<redacted>"
# Their request URLs carry the bot token; APScheduler logs every job run at INFO.
QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler")
# Alembic logs its plugins, dialect and migration steps at INFO whenever a database opens:
# shown at DEBUG only.
DEBUG_ONLY_LOGGERS = ("alembic",)
# `bot<id>:<secret>` in Bot API URLs (core.telegram.org/bots/api#making-requests), `:` possibly
# percent-encoded; and bare token-shaped strings (a bot id, then a secret of 35 characters).
_TOKEN_IN_URL = re.compile(r"bot\d+(?::|%3A)[A-Za-z0-9_-]+", re.IGNORECASE)
_BARE_TOKEN = re.compile(r"\b\d{5,}(?::|%3A)[A-Za-z0-9_-]{30,}", re.IGNORECASE)
_MIN_SECRET = 4  # shorter strings would blank out ordinary words


class Redactor:
    """Replaces known secrets and anything shaped like a bot token."""

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        known = {s.strip() for s in secrets if len(s.strip()) >= _MIN_SECRET}
        known |= {s.replace(":", "%3A") for s in known}
        self._secrets = sorted(known, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)  # in a URL this leaves `bot<redacted>`
        text = _TOKEN_IN_URL.sub(f"bot{REDACTED}", text)
        return _BARE_TOKEN.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Formats each record's message and traceback now, redacted, so no handler sees raw text."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - bad log arguments; logging itself never raises either
            message = f"{record.msg!r} (log arguments did not fit the message)"
        record.msg, record.args = self._redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        # Formatters append exc_text whether or not exc_info is set; dropping exc_info stops any
        # formatter from rendering the raw traceback again.
        record.exc_info = None
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True


class TextFormatter(logging.Formatter):
    """`2026-03-18T14:00:00Z INFO bot.poll: message`, times in UTC."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._redact = redact

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).strftime(datefmt or "%Y-%m-%dT%H:%M:%SZ")

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and, if any, exception."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return self._redact(jsonlib.dumps(entry, ensure_ascii=False))


class RepeatLimiter:
    """Whether a repeating event is due to be logged in full: the first time, then at most once
    per `every` for the same key. The caller passes the time (an injected clock, no sleeping).

    At most `max_keys` keys are remembered, the least recently logged forgotten first: a key
    forgotten is simply logged in full once more.
    """

    def __init__(self, every: timedelta = timedelta(hours=1), max_keys: int = 10_000) -> None:
        self._every = every
        self._max_keys = max_keys
        self._last: dict[Hashable, datetime] = {}

    def due(self, key: Hashable, now: datetime) -> bool:
        """True (and remembered as logged at `now`) when `key` was not logged within `every`."""
        last = self._last.get(key)
        if last is not None and now - last < self._every:
            return False
        self._last.pop(key, None)  # re-inserted last: the dict's order is the logging order
        self._last[key] = now
        while len(self._last) > self._max_keys:
            del self._last[next(iter(self._last))]
        return True


class _Handler(logging.StreamHandler[TextIO]):
    """Ours, so a second setup_logging call replaces it instead of doubling every line."""


def parse_level(level: str) -> int:
    """A level name (any case) or number; ValueError naming the choices otherwise."""
    name = level.strip().upper()
    if name.isdigit():
        return int(name)
    number = logging.getLevelNamesMapping().get(name)
    if number is None:
        raise ValueError(f"unknown log level {level!r} (use DEBUG, INFO, WARNING or ERROR)")
    return number


def setup_logging(
    level: str = "INFO",
    *,
    json: bool = False,
    secrets: Sequence[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Configure the root logger: one handler to `stream` (stderr), every record redacted.

    Calling it again (e.g. once the config has revealed the token) replaces the handler.
    """
    threshold = parse_level(level)
    redact = Redactor(secrets)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
        old.close()
    handler = _Handler(stream if stream is not None else sys.stderr)
    handler.addFilter(RedactingFilter(redact))
    handler.setFormatter(JsonFormatter(redact) if json else TextFormatter(redact))
    root.addHandler(handler)
    root.setLevel(threshold)
    quiet = max(logging.WARNING, threshold)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
    for name in DEBUG_ONLY_LOGGERS:
        logging.getLogger(name).setLevel(threshold if threshold <= logging.DEBUG else quiet)


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """ "1 source", "2 sources", "0 sources": a count and its noun in the right number, for log
    lines and command output alike."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
