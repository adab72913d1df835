"""`postwatch run` (until SIGTERM/SIGINT; SIGHUP reloads) and `postwatch run --once`."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.cli.exit_codes import EXIT_OK
from bot.config.settings import Config
from bot.runtime.core import open_runtime
from bot.runtime.run import run_once, run_until_stopped

log = logging.getLogger("bot.cli")


async def run(config: Config, *, once: bool, reload: Callable[[], Config] | None = None) -> int:
    runtime = await open_runtime(config)
    if not once:
        await run_until_stopped(runtime, reload=reload)
        return EXIT_OK
    try:
        polls, delivery = await run_once(runtime)
    finally:
        await runtime.close()
    failed = [p for p in polls if p.error]
    log.info(
        "run complete: %d sources polled (%d failed), %d new posts, %d copies of alerted "
        "stories, %d alerts sent (%d digests), %d edited, %d waiting to retry, %d failed, "
        "%d uncertain",
        len(polls),
        len(failed),
        sum(p.stored for p in polls),
        sum(p.joined for p in polls),
        delivery.sent,
        delivery.digests,
        delivery.edits,
        delivery.retrying,
        delivery.failed,
        delivery.uncertain,
    )
    return EXIT_OK
