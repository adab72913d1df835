"""YAML → validated, frozen Config. Parsed once, passed explicitly; nothing reads the
environment at import time.

(Loader to be implemented: see `load_config`.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.model import SourceKind


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
