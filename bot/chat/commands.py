"""The chat commands: who may use each, whether it changes anything, its help, and its
arguments read into typed values. Pure; every value is checked with the code the config file
is checked with, so nothing a user types reaches the store or the network unvalidated.

    spec = COMMANDS["watch"]                       # CommandSpec(role=OPERATOR, mutating=True)
    parsed = parse("watch", "black-sea shipping NEAR/5 (Odesa OR Izmail)")
    # Watch(topic_id="black-sea", query="shipping NEAR/5 ..."), or a Problem saying what is wrong
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.chat.gate import Role
from bot.classify.query import parse_query
from bot.config.values import SLUG_HELP, SLUG_MAX_LENGTH, is_slug, parse_duration
from bot.errors import QueryError
from bot.model import SOURCE_KINDS

MAX_MUTE = timedelta(days=30)
_CHANNEL = re.compile(r"@[A-Za-z0-9_]{4,32}|-100\d{10,13}")
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True, slots=True)
class CommandSpec:
    role: Role
    mutating: bool
    usage: str
    summary: str


COMMANDS: Mapping[str, CommandSpec] = {
    # subscribers, in a private chat
    "start": CommandSpec(Role.SUBSCRIBER, True, "/start", "what this bot does; a link subscribes"),
    "help": CommandSpec(Role.SUBSCRIBER, False, "/help", "the commands you may use"),
    "subscribe": CommandSpec(Role.SUBSCRIBER, True, "/subscribe [TOPIC]", "get a topic's alerts"),
    "unsubscribe": CommandSpec(Role.SUBSCRIBER, True, "/unsubscribe [TOPIC]", "stop them"),
    "mine": CommandSpec(Role.SUBSCRIBER, False, "/mine", "your subscriptions and settings"),
    "mute": CommandSpec(Role.SUBSCRIBER, True, "/mute 2h", "no alerts for a while"),
    "unmute": CommandSpec(Role.SUBSCRIBER, True, "/unmute", "alerts again"),
    "quiet": CommandSpec(
        Role.SUBSCRIBER, True, "/quiet 22:00-07:00 Europe/Kyiv", "silent alerts at night"
    ),
    "digest": CommandSpec(Role.SUBSCRIBER, True, "/digest 1h", "your alerts batched"),
    # operators
    "watch": CommandSpec(Role.OPERATOR, True, "/watch ID QUERY", "add or change a topic"),
    "unwatch": CommandSpec(Role.OPERATOR, True, "/unwatch ID", "remove a topic made in chat"),
    "topics": CommandSpec(Role.OPERATOR, False, "/topics", "every topic"),
    "test": CommandSpec(Role.OPERATOR, False, "/test QUERY", "a query on the stored posts"),
    "sources": CommandSpec(Role.OPERATOR, False, "/sources", "every source and its health"),
    "addsource": CommandSpec(
        Role.OPERATOR, True, "/addsource KIND URL_OR_HANDLE [EVERY]", "watch a new source"
    ),
    "removesource": CommandSpec(Role.OPERATOR, True, "/removesource ID", "stop watching one"),
    "pause": CommandSpec(Role.OPERATOR, True, "/pause ID", "stop polling a source for now"),
    "resume": CommandSpec(Role.OPERATOR, True, "/resume ID", "poll it again"),
    "route": CommandSpec(Role.OPERATOR, True, "/route TOPIC @channel", "send a topic there"),
    "unroute": CommandSpec(Role.OPERATOR, True, "/unroute TOPIC @channel", "stop sending it"),
    "channels": CommandSpec(Role.OPERATOR, False, "/channels", "every channel"),
    "status": CommandSpec(Role.OPERATOR, False, "/status", "failing sources, backlog"),
    "history": CommandSpec(Role.OPERATOR, False, "/history [N]", "the audit log"),
    # admins
    "grant": CommandSpec(Role.ADMIN, True, "/grant USER_ID", "make a user an operator"),
    "revoke": CommandSpec(Role.ADMIN, True, "/revoke USER_ID", "take it back"),
}


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a command cannot run as typed, for the reply; `column` (1-based) into the arguments."""

    message: str
    column: int | None = None


@dataclass(frozen=True, slots=True)
class Watch:
    topic_id: str
    query: str


@dataclass(frozen=True, slots=True)
class Named:
    """A command about one thing by id: unwatch, removesource, pause, resume."""

    ident: str


@dataclass(frozen=True, slots=True)
class AddSource:
    kind: str
    target: str  # a feed or profile URL, a Bluesky handle, a Telegram channel name
    every: timedelta | None


@dataclass(frozen=True, slots=True)
class Route:
    topic_id: str
    channel: str  # @username or -100… id


@dataclass(frozen=True, slots=True)
class UserId:
    user_id: int


@dataclass(frozen=True, slots=True)
class Span:
    span: timedelta


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: time
    end: time
    zone: str  # an IANA time zone name


@dataclass(frozen=True, slots=True)
class Text:
    """A command whose argument is free text or nothing: test, subscribe, history, ..."""

    text: str


Parsed = Watch | Named | AddSource | Route | UserId | Span | QuietHours | Text | Problem


def parse(command: str, arguments: str) -> Parsed:
    """The typed arguments of `/command arguments`, or the Problem with them."""
    reader = _READERS.get(command, _text)
    return reader(arguments.strip())


def _watch(arguments: str) -> Parsed:
    ident, _, query = arguments.partition(" ")
    if (problem := _slug_problem(ident, "a topic id")) is not None:
        return problem
    query = query.strip()
    if not query:
        return Problem("give the query after the id: /watch black-sea shipping AND Odesa")
    try:
        parse_query(query)
    except QueryError as exc:
        return Problem(f"bad query: {exc}", column=len(ident) + 1 + exc.column)
    return Watch(ident, query)


def _named(arguments: str) -> Parsed:
    return _slug_problem(arguments, "an id") or Named(arguments)


def _add_source(arguments: str) -> Parsed:
    words = arguments.split()
    if len(words) not in (2, 3):
        return Problem("usage: /addsource KIND URL_OR_HANDLE [EVERY]")
    kind, target = words[0].lower(), words[1]
    if kind not in SOURCE_KINDS:
        return Problem(f"unknown kind {words[0]!r}: one of {', '.join(SOURCE_KINDS)}")
    every = None
    if len(words) == 3:
        try:
            every = parse_duration(words[2])
        except ValueError as exc:
            return Problem(str(exc), column=len(words[0]) + len(words[1]) + 3)
    return AddSource(kind, target, every)


def _route(arguments: str) -> Parsed:
    words = arguments.split()
    if len(words) != 2:
        return Problem("usage: /route TOPIC @channel")
    if (problem := _slug_problem(words[0], "a topic id")) is not None:
        return problem
    if not _CHANNEL.fullmatch(words[1]):
        return Problem(f"{words[1]!r} is not a channel: write @channelname or its -100… id")
    return Route(words[0], words[1])


def _user_id(arguments: str) -> Parsed:
    # Numbers only: a @username can change hands, an id cannot (the gate's rule).
    if not arguments.isascii() or not arguments.isdigit() or int(arguments) == 0:
        return Problem("give the user's numeric id (a @username can change hands; an id cannot)")
    return UserId(int(arguments))


def _span(arguments: str) -> Parsed:
    try:
        span = parse_duration(arguments)
    except ValueError as exc:
        return Problem(str(exc))
    if not timedelta(minutes=1) <= span <= MAX_MUTE:
        return Problem("give a span from 1m to 30d, e.g. 2h")
    return Span(span)


def _quiet(arguments: str) -> Parsed:
    hours, _, zone = arguments.partition(" ")
    start_text, dash, end_text = hours.partition("-")
    start, end = _CLOCK.fullmatch(start_text), _CLOCK.fullmatch(end_text)
    if not dash or start is None or end is None:
        return Problem("write the hours as HH:MM-HH:MM, then a time zone: 22:00-07:00 Europe/Kyiv")
    zone = zone.strip() or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return Problem(f"unknown time zone {zone!r}: use a name such as Europe/Kyiv or UTC")
    return QuietHours(time(int(start[1]), int(start[2])), time(int(end[1]), int(end[2])), zone)


def _text(arguments: str) -> Parsed:
    return Text(arguments)


def _slug_problem(ident: str, what: str) -> Problem | None:
    if not ident:
        return Problem(f"give {what}")
    if len(ident) > SLUG_MAX_LENGTH:
        return Problem(f"{ident[:20]!r}… is too long (an id has at most {SLUG_MAX_LENGTH})")
    if not is_slug(ident):
        return Problem(f"{ident!r} is not an id ({SLUG_HELP})", column=1)
    return None


_READERS: Mapping[str, Callable[[str], Parsed]] = {
    "watch": _watch,
    "unwatch": _named,
    "removesource": _named,
    "pause": _named,
    "resume": _named,
    "addsource": _add_source,
    "route": _route,
    "unroute": _route,
    "grant": _user_id,
    "revoke": _user_id,
    "mute": _span,
    "quiet": _quiet,
    "digest": _span,
}
