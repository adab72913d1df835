"""`postwatch check [--online]`: the config is valid (loading it has checked every key), what it
holds, and what the run will refuse that the file cannot say: sources on private addresses
while the guard is on and, with --online, a bot token Telegram does not accept."""

from __future__ import annotations

import asyncio
import sys
from urllib.parse import urlsplit

from bot.cli.exit_codes import EXIT_CANNOT_START, EXIT_CONFIG, EXIT_OK
from bot.config.settings import Config
from bot.errors import DeliveryError, TokenRejectedError
from bot.log import counted
from bot.net.addresses import private_host_reason


def check(config: Config, *, online: bool = False) -> int:
    """Print what the valid config holds (the loader has already refused an invalid one)."""
    for warning in private_address_warnings(config):
        print(f"postwatch: warning: {warning}", file=sys.stderr)
    enabled = sum(1 for s in config.sources if s.enabled)
    to = "Telegram" if config.telegram.token else "the console (no bot token set)"
    print(
        f"config OK: {counted(len(config.sources), 'source')} ({enabled} enabled), "
        f"{counted(len(config.topics), 'topic')}, {counted(len(config.channels), 'channel')}, "
        f"alerts to {to}"
    )
    if not online:
        return EXIT_OK
    return asyncio.run(_check_token(config))


def private_address_warnings(config: Config) -> list[str]:
    """Sources whose host is a private IP literal or a localhost name (RFC 6761) while
    network.allow_private_addresses is off. Names are not resolved: check stays offline."""
    if config.network.allow_private_addresses:
        return []
    warnings = []
    for source in config.sources:
        host = urlsplit(source.url).hostname or ""
        reason = private_host_reason(host)
        if reason is not None:
            warnings.append(
                f"source {source.id}: {host} is a {reason} address; the run will refuse it "
                "unless network.allow_private_addresses is true"
            )
    return warnings


async def _check_token(config: Config) -> int:
    """Ask Telegram who the bot is (getMe): the one network call `check` makes, on request."""
    from bot.notify.telegram import TelegramNotifier

    if not config.telegram.token:
        print("no bot token set: alerts print to the console; nothing to check online")
        return EXIT_OK
    notifier = TelegramNotifier(config.telegram.token, config.telegram.base_url)
    try:
        name = await notifier.identity()
    except TokenRejectedError as exc:
        print(f"postwatch: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except DeliveryError as exc:
        print(f"postwatch: cannot reach Telegram: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START
    finally:
        await notifier.aclose()
    print(f"Telegram accepts the token: the bot is {name}")
    return EXIT_OK
