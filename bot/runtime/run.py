"""Run the bot: once (`postwatch run --once`), or until stopped with the scheduler's jobs and
SIGHUP reloads; stop gracefully."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

from bot.config.settings import Config
from bot.deliver.loop import DeliveryReport
from bot.log import counted
from bot.poll import PollReport
from bot.runtime.core import Runtime, enabled_sources
from bot.runtime.jobs import Jobs
from bot.runtime.reload import Reloader

log = logging.getLogger(__name__)


async def run_once(runtime: Runtime) -> tuple[list[PollReport], DeliveryReport]:
    """Poll every enabled source once (`network.concurrency` at a time), then deliver
    everything pending. As many pollers as the cap take the next source in turn: memory stays
    that of the cap, not of a task per source (a run over 100,000 sources)."""
    sources = list(enumerate(enabled_sources(runtime.config)))
    reports: list[PollReport | None] = [None] * len(sources)
    todo = iter(sources)

    async def poller() -> None:
        for number, source in todo:  # one iterator shared: each source goes to one poller
            reports[number] = await runtime.poll(source)

    pollers = min(len(sources), runtime.config.network.concurrency)
    await asyncio.gather(*(poller() for _ in range(pollers)))
    await runtime.flush_states()
    delivery = await runtime.deliver()
    return [report for report in reports if report is not None], delivery


async def run_until_stopped(
    runtime: Runtime,
    stop: asyncio.Event | None = None,
    reload: Callable[[], Config] | None = None,
) -> None:
    """Poll on each source's interval and deliver continuously until SIGTERM/SIGINT or `stop`.

    SIGHUP calls `reload` (which reads the config file again) and swaps in the new config and
    topics when it is valid (bot.runtime.reload). On stop: no new jobs start, in-flight polls,
    sends and a reload in progress finish, then everything closes.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    jobs = Jobs(runtime)
    reloader = Reloader(runtime, jobs, reload) if reload is not None else None
    if reloader is not None:
        loop.add_signal_handler(signal.SIGHUP, reloader.request)
    jobs.start()
    log.info(
        "postwatch running: %s, %s, %s",
        counted(len(enabled_sources(runtime.config)), "source"),
        counted(len(runtime.config.topics), "topic"),
        counted(len(runtime.config.channels), "channel"),
    )
    try:
        await stop.wait()
    finally:
        log.info("stopping: finishing in-flight work")
        if reloader is not None:
            loop.remove_signal_handler(signal.SIGHUP)
            await reloader.wait()
        await jobs.stop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
