"""`postwatch run` (until SIGTERM/SIGINT; SIGHUP reloads) and `postwatch run --once`."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import Callable, Mapping

from bot.cli.exit_codes import EXIT_ALERTS, EXIT_CONFIG, EXIT_OK, EXIT_SOURCES
from bot.config.settings import Config
from bot.deliver.loop import DeliveryReport
from bot.errors import TokenRejectedError
from bot.log import counted
from bot.runtime.core import open_runtime
from bot.runtime.run import run_once, run_until_stopped
from bot.runtime.summary import PollSummary, describe_failures, summarize_polls

log = logging.getLogger("bot.cli")


async def run(config: Config, *, once: bool, reload: Callable[[], Config] | None = None) -> int:
    try:
        runtime = await open_runtime(config)
    except TokenRejectedError as exc:
        print(f"postwatch: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    # What start-up built (the config, its sources' states, the compiled topics) lives as long
    # as the run: frozen, the cycle collector stops scanning it over and over (100,000 sources
    # are millions of objects).
    gc.freeze()
    if not once:
        await run_until_stopped(runtime, reload=reload)
        return EXIT_OK
    try:
        polls, delivery = await run_once(runtime)
        waiting = _still_waiting(await asyncio.to_thread(runtime.store.outbox_counts))
    finally:
        await runtime.close()
    done = summarize_polls(polls)
    log.info(
        "run complete: %s polled (%d failed), %d waiting out a backoff, %s, "
        "%s of alerted stories, %s sent (%s), %d edited, %d waiting to retry, %d failed, "
        "%d uncertain",
        counted(done.polled, "source"),
        done.failed,
        done.waiting,
        counted(done.stored, "new post"),
        counted(done.joined, "copy", "copies"),
        counted(delivery.sent, "alert"),
        counted(delivery.digests, "digest"),
        delivery.edits,
        delivery.retrying,
        delivery.failed,
        delivery.uncertain,
    )
    if done.failures:
        log.warning(
            "%s failed: %s", counted(done.failed, "source"), describe_failures(done.failures)
        )
    if done.damaged:
        log.warning(
            "%s had a stage fail on them (each named above; stored where they could be)",
            counted(done.damaged, "post"),
        )
    if waiting and not delivery.skipped:
        log.warning("%s still waiting in the outbox for the next run", counted(waiting, "alert"))
    return exit_code(done, delivery, waiting)


def _still_waiting(counts: Mapping[str, int]) -> int:
    return counts.get("pending", 0) + counts.get("sending", 0)


def exit_code(polls: PollSummary, delivery: DeliveryReport, waiting: int) -> int:
    """`run --once`'s exit code. 0: every source polled and every alert delivered. 5: an alert
    failed, is uncertain, or is still waiting after the run (first: an alert not delivered
    matters more than a feed). 4: a source failed (any way: the fetch, the parse, the
    database, a bug of ours) or waited out a backoff unpolled."""
    if waiting or delivery.failed or delivery.uncertain:
        return EXIT_ALERTS
    if polls.failed or polls.waiting:
        return EXIT_SOURCES
    return EXIT_OK
