"""YAML → validated, frozen Config. Parsed once, passed explicitly; nothing reads the
environment at import time.

    path = resolve_config_path(args.config, os.environ)   # --config, else $POSTWATCH_CONFIG
    config = load_config(path, os.environ)                # ConfigError lists every problem

This module holds the types and the file reading. The checks live in bot.config_build (the
document → Config), bot.config_sources (the sources list, per kind), bot.config_section (reads
that record problems with their key path) and bot.config_values (durations, sizes, ${VAR}).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.config_values import mask_password
from bot.errors import ConfigError
from bot.model import SourceKind

CONFIG_ENV = "POSTWATCH_CONFIG"
DEFAULT_CONFIG_PATH = Path("config/postwatch.yaml")


class Secret:
    """A string that never prints: repr/str show a mask, `reveal()` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class TelegramSettings:
    token: Secret = field(default_factory=lambda: Secret(""))  # empty: print alerts to console
    base_url: str = "https://api.telegram.org/bot"
    admins: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class NetworkSettings:
    allow_private_addresses: bool = False
    timeout: timedelta = timedelta(seconds=20)  # per connect/read, and the overall fetch deadline
    max_bytes: int = 10 * 1024 * 1024
    user_agent: str = "postwatch/0.1 (+https://github.com/postwatch/postwatch)"
    max_redirects: int = 5
    concurrency: int = 20  # sources fetched at once


@dataclass(frozen=True, slots=True)
class Defaults:
    every: timedelta = timedelta(minutes=5)
    max_age: timedelta = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    id: str
    chat_id: str
    topics: tuple[str, ...] | None = None  # None: every topic
    thread_id: int | None = None  # a forum topic of a supergroup (message_thread_id)
    silent: bool = False  # disable_notification: no sound
    link_preview: bool = True
    digest: timedelta | None = None  # batch alerts into one message per period
    media: bool = False  # send the post's first image, the alert as its caption


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `count` messages in any window of `per` (Telegram words its limits this way)."""

    count: int
    per: timedelta


@dataclass(frozen=True, slots=True)
class StorySettings:
    # A post joins a story whose posts were first seen within this span; older ones start anew.
    window: timedelta = timedelta(hours=72)
    # How much of its text a post must share with a stored one (word 3-grams, 0 to 1) to join
    # its story; bot.stories_match has the measurements behind the default.
    threshold: float = 0.6


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    # More pending alerts than this in one channel are sent as one digest message.
    burst: int = 10
    # Alerts waiting longer than this (an outage) are sent as a digest too.
    max_delay: timedelta = timedelta(hours=2)
    # https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
    overall: RateLimit = RateLimit(30, timedelta(seconds=1))
    per_chat: RateLimit = RateLimit(1, timedelta(seconds=1))
    per_group: RateLimit = RateLimit(20, timedelta(minutes=1))


@dataclass(frozen=True, slots=True)
class SourceConfig:
    id: str
    kind: SourceKind
    url: str  # feed URL; Mastodon profile URL; Bluesky API base; Telegram preview page
    every: timedelta
    max_age: timedelta
    enabled: bool = True
    alert_backlog: bool = False
    actor: str | None = None  # bluesky
    channel: str | None = None  # telegram


@dataclass(frozen=True, slots=True)
class TopicConfig:
    id: str
    name: str
    query: str


@dataclass(frozen=True, slots=True)
class Config:
    database_url: str
    telegram: TelegramSettings
    network: NetworkSettings
    defaults: Defaults
    channels: tuple[ChannelConfig, ...]
    sources: tuple[SourceConfig, ...]
    topics: tuple[TopicConfig, ...]
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    stories: StorySettings = field(default_factory=StorySettings)

    def __repr__(self) -> str:
        # The database URL may carry a password; the token is a Secret and masks itself.
        shown = [
            f"{f.name}={mask_password(self.database_url)!r}"
            if f.name == "database_url"
            else f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
        ]
        return f"Config({', '.join(shown)})"


def resolve_config_path(cli_value: str | None, env: Mapping[str, str]) -> Path:
    """--config, else $POSTWATCH_CONFIG, else config/postwatch.yaml (relative to the cwd)."""
    if cli_value:
        return Path(cli_value)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    return DEFAULT_CONFIG_PATH


def load_config(path: Path, env: Mapping[str, str]) -> Config:
    """Read, substitute ${VAR}s from `env`, validate. ConfigError carries every problem found."""
    from bot.config_build import build_config

    readable, document, problems = read_document(path)
    if not readable:
        raise ConfigError(problems)
    try:
        config = build_config(document, env)
    except ConfigError as exc:
        raise ConfigError(problems + exc.problems) from None
    if problems:
        raise ConfigError(problems)
    return config


def read_document(path: Path) -> tuple[bool, object, list[str]]:
    """(readable, the parsed YAML, problems found while reading). An empty file reads as None."""
    text, problem = _read_text(path)
    if text is None:
        return False, None, [problem]
    loader = _Loader(text)
    try:
        document = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        return False, None, [_syntax_problem(path, exc)]
    except yaml.YAMLError as exc:  # unmarked errors are rare (e.g. a stream with two documents)
        return False, None, [f"{path}: YAML error: {exc}"]
    finally:
        loader.dispose()
    return True, document, [f"{path}: {d}" for d in loader.duplicates]


def _read_text(path: Path) -> tuple[str | None, str]:
    try:
        return path.read_text(encoding="utf-8"), ""
    except FileNotFoundError:
        hint = f"pass --config PATH or set ${CONFIG_ENV}; config/example.yaml documents every key"
        return None, f"{path}: file not found ({hint})"
    except IsADirectoryError:
        return None, f"{path}: is a directory, not a config file"
    except UnicodeDecodeError as exc:
        return None, f"{path}: not UTF-8 text (byte {exc.start})"
    except OSError as exc:
        return None, f"{path}: cannot read: {exc.strerror or exc}"


def _syntax_problem(path: Path, exc: yaml.MarkedYAMLError) -> str:
    # Only the message and position: str(exc) quotes the offending line, which may hold a token.
    mark = exc.problem_mark or exc.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    message = " ".join(m for m in (exc.context, exc.problem) if m)
    if "'@'" in message or "'`'" in message:
        message += ' (quote values that start with @ or `, e.g. chat_id: "@my_channel")'
    return f"{path}: YAML syntax error at {where}{message}"


class _Loader(yaml.SafeLoader):
    """SafeLoader that notes duplicate keys: YAML keeps the last silently, hiding the first."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[str] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[str, int] = {}
        for key_node, _value in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue
            line = key_node.start_mark.line + 1
            if key_node.value in seen:
                self.duplicates.append(
                    f"line {line}: duplicate key '{key_node.value}' (first at line "
                    f"{seen[key_node.value]}; YAML would silently keep only the last)"
                )
            else:
                seen[key_node.value] = line
        return super().construct_mapping(node, deep)
