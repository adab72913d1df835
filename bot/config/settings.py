"""The validated config's types: frozen values every stage is handed, never a dict.

`bot.config.load` reads a file into a `Config`; nothing here reads files or the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import timedelta

from bot.config.values import mask_password
from bot.model import SourceKind, TopicConfig


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
    # its story; bot.stories.match has the measurements behind the default.
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
    name: str | None = None  # shown to subscribers instead of the post's author


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
    log_every: timedelta = timedelta(minutes=5)  # the running bot's summary line

    def __repr__(self) -> str:
        # The database URL may carry a password; the token is a Secret and masks itself.
        shown = [
            f"{f.name}={mask_password(self.database_url)!r}"
            if f.name == "database_url"
            else f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
        ]
        return f"Config({', '.join(shown)})"
