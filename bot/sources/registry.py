"""The registry of source kinds: one line per adapter module."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from bot.config.settings import SourceConfig
from bot.model import Fetched, SourceKind, SourceState
from bot.sources.bluesky import BlueskyAdapter
from bot.sources.mastodon import MastodonAdapter
from bot.sources.rss import RssAdapter
from bot.sources.telegram import TelegramAdapter

if TYPE_CHECKING:  # bot.net.client pulls in aiohttp; the adapters only need the type
    from bot.net.client import HttpClient


class SourceAdapter(Protocol):
    async def fetch(
        self, source: SourceConfig, state: SourceState, http: HttpClient, now: datetime
    ) -> Fetched:
        """Fetch and parse one source. Raises SourceError subclasses (FetchError, ParseError)."""
        ...


ADAPTERS: Mapping[SourceKind, SourceAdapter] = MappingProxyType(
    {
        "rss": RssAdapter(),
        "mastodon": MastodonAdapter(),
        "bluesky": BlueskyAdapter(),
        "telegram": TelegramAdapter(),
    }
)


def adapter_for(kind: SourceKind) -> SourceAdapter:
    return ADAPTERS[kind]
