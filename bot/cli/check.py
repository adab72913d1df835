"""`postwatch check`: the config is valid (loading it has checked every key), and what it holds."""

from __future__ import annotations

from bot.cli.exit_codes import EXIT_OK
from bot.config.settings import Config


def check(config: Config) -> int:
    """Print what the valid config holds (the loader has already refused an invalid one)."""
    print(
        f"config OK: {len(config.sources)} sources "
        f"({sum(1 for s in config.sources if s.enabled)} enabled), "
        f"{len(config.topics)} topics, {len(config.channels)} channels, "
        f"alerts to {'Telegram' if config.telegram.token else 'the console (no bot token set)'}"
    )
    return EXIT_OK
