"""`python tests/contain_launcher.py <postwatch arguments>`: the real `postwatch` command with
one bug planted behind the adapter registry seam, for tests/test_contain_cli.py.

Sources whose id starts with "buggy" are fetched for real by the rss adapter, over HTTP, and
then fail with a KeyError, as a parser with a bug would: an exception outside bot.errors.
Everything else is the unchanged program.
"""

from __future__ import annotations

import sys
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from bot.cli.entry import main
from bot.model import Fetched, SourceState
from bot.sources import registry

if TYPE_CHECKING:
    from bot.config.settings import SourceConfig
    from bot.net.client import HttpClient


class BuggyForSomeSources:
    def __init__(self, real: registry.SourceAdapter) -> None:
        self.real = real

    async def fetch(
        self, source: SourceConfig, state: SourceState, http: HttpClient, now: datetime
    ) -> Fetched:
        fetched = await self.real.fetch(source, state, http, now)
        if source.id.startswith("buggy"):
            entry: dict[str, str] = {}
            entry["guid"] += "planted"  # KeyError: 'guid'
        return fetched


if __name__ == "__main__":
    registry.ADAPTERS = MappingProxyType(
        {**registry.ADAPTERS, "rss": BuggyForSomeSources(registry.ADAPTERS["rss"])}
    )
    sys.exit(main(sys.argv[1:]))
