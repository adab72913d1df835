"""The parsed YAML document → Config. Every section is checked and every problem collected,
one line each naming its key path, before ConfigError is raised once.

Nothing here echoes the bot token or a database password: problem lines are scrubbed of both.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from datetime import timedelta
from urllib.parse import urlsplit

from bot.config.delivery import (
    CHANNEL_OPTION_KEYS,
    DELIVERY_KEYS,
    MAX_USER_ID,
    build_delivery,
    channel_options,
    chat_number_problem,
)
from bot.config.keys import SECTION_KEYS, TOP_KEYS, misplaced
from bot.config.section import REPORTED, Section, entries, entry_id
from bot.config.settings import (
    ChannelConfig,
    Config,
    Defaults,
    NetworkSettings,
    Secret,
    StorySettings,
    TelegramSettings,
)
from bot.config.sources import MIN_EVERY, MIN_MAX_AGE, build_sources
from bot.config.values import describe, http_url_problem, substitute_env, suggestion
from bot.errors import ConfigError, QueryError
from bot.model import TopicConfig

DEFAULT_DATABASE_URL = "sqlite:///data/postwatch.db"
DATABASE_HELP = "expected sqlite:///path/to/file.db or postgresql+psycopg://user:password@host/db"
LENIENT_ENV_PATHS = frozenset({"telegram.token"})  # unset: no token, alerts go to the console
# "<bot id>:<secret>", as @BotFather prints it (core.telegram.org/bots/api#authorizing-your-bot)
_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]+")
_CHAT_USERNAME = re.compile(r"@[A-Za-z0-9_]{4,32}")  # public usernames: 5-32 chars, a few legacy 4
_CHAT_NUMBER = re.compile(r"-?\d+")  # channels and supergroups: -100...


def build_config(document: object, env: Mapping[str, str]) -> Config:
    """A Config from the YAML document; ConfigError listing every problem otherwise."""
    problems: list[str] = []
    if not isinstance(document, Mapping):
        got = "an empty file" if document is None else describe(document)
        raise ConfigError(
            [f"(top level): expected a mapping of settings (sources:, topics:, ...), got {got}"]
        )
    data = _substitute(document, "", env, problems)
    assert isinstance(data, Mapping)
    root = Section(data, "", problems)
    root.check_keys(TOP_KEYS, misplaced("", TOP_KEYS))
    database_url = _database_url(root)
    telegram = _telegram(_subsection(root, "telegram", "token:, base_url:, admins:"))
    network = _network(_subsection(root, "network", "timeout:, max_bytes:, ..."))
    defaults = _defaults(_subsection(root, "defaults", "every:, max_age:"))
    delivery = build_delivery(
        _subsection(root, "delivery", ", ".join(f"{k}:" for k in DELIVERY_KEYS))
    )
    stories = _stories(_subsection(root, "stories", "window:, threshold:"))
    log_every = root.duration("log_every", timedelta(minutes=5), timedelta(seconds=10))
    sources, source_ids = build_sources(root, defaults)
    topics, topic_ids = _topics(root, source_ids)
    channels = _channels(root, topic_ids)
    if problems:
        password = urlsplit(database_url).password if "://" in database_url else None
        raise ConfigError(_scrub(problems, (telegram.token.reveal(), password or "")))
    return Config(
        database_url,
        telegram,
        network,
        defaults,
        channels,
        sources,
        topics,
        delivery,
        stories,
        log_every,
    )


def _substitute(value: object, path: str, env: Mapping[str, str], problems: list[str]) -> object:
    """The document with ${VAR}s filled in; an unset one is reported once, here."""
    if isinstance(value, str):
        if "$" not in value:
            return value
        text, unset, malformed = substitute_env(value, env)
        if malformed:  # no value in the message: it may be the token
            problems.append(
                f"{path}: '${{' must start ${{NAME}} or ${{NAME:-default}} ($${{ is a literal ${{)"
            )
        if unset and path not in LENIENT_ENV_PATHS:
            for name in unset:
                fallback = f"${{{name}:-default}}"
                problems.append(
                    f"{path}: environment variable {name} is not set (set it, or write {fallback})"
                )
            return REPORTED
        return text
    if isinstance(value, Mapping):
        return {
            k: _substitute(v, f"{path}.{k}" if path else str(k), env, problems)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_substitute(v, f"{path}[{i}]", env, problems) for i, v in enumerate(value)]
    return value


def _scrub(problems: list[str], secrets: tuple[str, ...]) -> list[str]:
    out = []
    for problem in problems:
        scrubbed = problem
        for secret in secrets:
            if len(secret) >= 3:
                scrubbed = scrubbed.replace(secret, "<redacted>")
        out.append(scrubbed)
    return out


def _subsection(root: Section, key: str, shape: str) -> Section:
    """The mapping under `key`; an empty one (all defaults) when absent or not a mapping."""
    value = root.data.get(key)
    section = None if value is None else Section.of(value, key, root.problems, shape)
    return section or Section({}, key, root.problems)


def _stories(section: Section) -> StorySettings:
    d = StorySettings()
    section.check_keys(SECTION_KEYS["stories"], misplaced("stories", SECTION_KEYS["stories"]))
    return StorySettings(
        window=section.duration("window", d.window, timedelta(minutes=1), timedelta(days=30)),
        # The bench measured 0.4 to 0.8 (bot.stories.match); far outside is a typo, not a choice.
        threshold=section.fraction("threshold", d.threshold, 0.3, 1.0),
    )


def _database_url(root: Section) -> str:
    url = root.text("database_url", DEFAULT_DATABASE_URL)
    assert url is not None
    # The URL itself is never echoed: it may carry a password.
    scheme, sep, rest = url.partition("://")
    backend, _, driver = scheme.lower().partition("+")
    if not sep:
        root.problem("database_url", f"not a database URL ({DATABASE_HELP})")
    elif backend == "sqlite":
        path = rest.removeprefix("/")
        if driver not in ("", "pysqlite") or not rest.startswith("/") or path in ("", ":memory:"):
            root.problem("database_url", f"SQLite needs a file path, e.g. {DEFAULT_DATABASE_URL}")
    elif backend not in ("postgresql", "postgres"):
        root.problem("database_url", f"unsupported database '{scheme}' ({DATABASE_HELP})")
    return url


def _telegram(section: Section) -> TelegramSettings:
    section.check_keys(SECTION_KEYS["telegram"], misplaced("telegram", SECTION_KEYS["telegram"]))
    defaults = TelegramSettings()
    token = ""
    raw = section.data.get("token")
    if isinstance(raw, str):
        token = raw.strip()
        if token and not _TOKEN.fullmatch(token):
            section.problem(
                "token",
                "does not look like a bot token "
                "(expected <digits>:<letters> from @BotFather; value not shown)",
            )
    elif raw is not None:  # e.g. an unquoted token YAML read as a number; never echo it
        section.problem(
            "token", "expected text: quote the token, or better, use ${TELEGRAM_BOT_TOKEN}"
        )
    base_url = section.text("base_url", defaults.base_url) or defaults.base_url
    if (why := http_url_problem(base_url)) is not None:
        section.problem("base_url", why)
    admins = []
    for path, item in section.items("admins"):
        user_id = int(item) if isinstance(item, str) and item.strip().isdigit() else item
        if (
            isinstance(user_id, int)
            and not isinstance(user_id, bool)
            and 0 < user_id <= MAX_USER_ID
        ):
            admins.append(user_id)
        elif item is not REPORTED:
            section.problems.append(
                f"{path}: expected a numeric Telegram user id, got {describe(item)}"
            )
    return TelegramSettings(Secret(token), base_url, tuple(admins))


def _network(section: Section) -> NetworkSettings:
    d = NetworkSettings()
    section.check_keys(SECTION_KEYS["network"], misplaced("network", SECTION_KEYS["network"]))
    return NetworkSettings(
        allow_private_addresses=section.boolean(
            "allow_private_addresses", d.allow_private_addresses
        ),
        timeout=section.duration(
            "timeout", d.timeout, timedelta(seconds=1), high=timedelta(minutes=10)
        ),
        max_bytes=section.size("max_bytes", d.max_bytes, 1 << 10, 1 << 30),
        user_agent=section.text("user_agent", d.user_agent) or d.user_agent,
        # Browsers follow about 20 redirects; feeds needing more are misconfigured.
        max_redirects=section.integer("max_redirects", d.max_redirects, 0, 20),
        concurrency=section.integer("concurrency", d.concurrency, 1, 1000),
    )


def _defaults(section: Section) -> Defaults:
    d = Defaults()
    section.check_keys(SECTION_KEYS["defaults"], misplaced("defaults", SECTION_KEYS["defaults"]))
    return Defaults(
        every=section.duration("every", d.every, MIN_EVERY),
        max_age=section.duration("max_age", d.max_age, MIN_MAX_AGE),
    )


def _topics(root: Section, source_ids: set[str]) -> tuple[tuple[TopicConfig, ...], set[str]]:
    topics: list[TopicConfig] = []
    seen: dict[str, str] = {}
    known = _FoldedIds(source_ids)  # folded once: per topic, it was sources x topics (issue 12)
    for section in entries(root, "topics", "id:, name:, query:"):
        section.check_keys(("id", "name", "query"))
        ident = entry_id(section, seen, "ukraine-ceasefire")
        name = section.text("name")
        query = section.text("query", required="the words to watch for, e.g. ceasefire AND Ukraine")
        if query is not None and _query_ok(section, query, known) and ident:
            topics.append(TopicConfig(ident, name or ident, query))
    return tuple(topics), set(seen)


class _FoldedIds:
    """Source ids folded as the matcher compares them, for `source:ID` and `source:ID*`: a set
    and a sorted list, so each filter costs a lookup or a bisection, not a scan of the sources."""

    def __init__(self, ids: set[str]) -> None:
        from bot.classify.text import normalize

        self.exact = {normalize(s) for s in ids}
        self.ordered = sorted(self.exact)

    def matches(self, value: str, prefix: bool) -> bool:
        if value in self.exact:
            return True
        at = bisect_left(self.ordered, value)  # the first id >= value starts with it, if any does
        return prefix and at < len(self.ordered) and self.ordered[at].startswith(value)


def _query_ok(section: Section, query: str, known: _FoldedIds) -> bool:
    from bot.classify.query import parse_query

    try:
        parsed = parse_query(query)
    except QueryError as exc:
        section.problem("query", str(exc))
        return False
    ok = True
    for value, prefix in _source_filters(parsed):
        if not known.matches(value, prefix):
            section.problem(
                "query", f"source:{value}{'*' if prefix else ''} matches no configured source"
            )
            ok = False
    return ok


def _source_filters(node: object) -> Iterator[tuple[str, bool]]:
    """(value, prefix) of each `source:` filter in a parsed query."""
    from bot.classify.query import And, Filter, Not, Or

    if isinstance(node, Filter) and node.name == "source":
        yield node.value, node.prefix
    elif isinstance(node, Not):
        yield from _source_filters(node.operand)
    elif isinstance(node, And | Or):
        for operand in node.operands:
            yield from _source_filters(operand)


def _channels(root: Section, topic_ids: set[str]) -> tuple[ChannelConfig, ...]:
    channels: list[ChannelConfig] = []
    seen: dict[str, str] = {}
    for section in entries(root, "channels", "id:, chat_id:, topics:"):
        section.check_keys(("id", "chat_id", "topics", *CHANNEL_OPTION_KEYS))
        ident = entry_id(section, seen, "ceasefire")
        chat_id = section.text("chat_id", required="the channel's @username or numeric chat id")
        if chat_id is not None and not (
            _CHAT_USERNAME.fullmatch(chat_id) or _CHAT_NUMBER.fullmatch(chat_id)
        ):
            hint = (
                f" (did you mean '@{chat_id}'?)" if _CHAT_USERNAME.fullmatch(f"@{chat_id}") else ""
            )
            section.problem(
                "chat_id",
                f"{describe(chat_id)} is not a chat id "
                f"(expected @channelname or a number such as -1001234567890){hint}",
            )
            chat_id = None
        elif (
            chat_id is not None
            and _CHAT_NUMBER.fullmatch(chat_id)
            and (why := chat_number_problem(chat_id)) is not None
        ):
            section.problem("chat_id", f"{describe(chat_id)} {why}")
            chat_id = None
        topics = _channel_topics(section, topic_ids)
        options = channel_options(section)
        if ident and chat_id:
            channels.append(ChannelConfig(ident, chat_id, topics, **options))
    return tuple(channels)


def _channel_topics(section: Section, topic_ids: set[str]) -> tuple[str, ...] | None:
    if not section.has("topics"):
        return None  # every topic
    chosen = []
    for path, item in section.items("topics"):
        if not isinstance(item, str) or not item.strip():
            if item is not REPORTED:
                section.problems.append(f"{path}: expected a topic id, got {describe(item)}")
        elif item.strip() not in topic_ids:
            section.problems.append(
                f"{path}: unknown topic '{item.strip()}'{suggestion(item.strip(), topic_ids)}"
            )
        else:
            chosen.append(item.strip())
    if section.data.get("topics") == []:
        section.problem(
            "topics", "empty list: this channel would get no alerts (omit topics for every topic)"
        )
    return tuple(chosen)
