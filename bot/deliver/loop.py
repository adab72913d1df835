"""Delivery: the outbox drained to Telegram, paced, oldest first, as its own loop.

    deliverer = Deliverer(store, notifier, lambda: runtime.config, clock=utc_now)
    await deliverer.run()        # beside polling, until deliverer.stop()  (postwatch run)
    await deliverer.drain()      # everything pending now, then return       (run --once)

Guarantees (README, "Delivery guarantees"):
- One process delivers per database: a lease row, renewed, taken over on expiry or when its
  holder is known dead (bot.deliver.holder, bot.deliver.lease). Alerts are claimed (`sending`) only
  while holding it.
- An alert is `sending` before its request leaves and `sent` only after Telegram answered, so
  a crash leaves at most the alert on the wire unknown; it is sent again at the next start
  (at least once; at most that one alert twice per crash). One request is on the wire at a time.
- Telegram's limits are kept before Telegram must say so (bot.deliver.pacing); a 429 waits exactly
  retry_after and keeps order. What each error does is in bot.deliver.send.
- A channel with more than `delivery.burst` alerts waiting, or one waiting longer than
  `delivery.max_delay`, gets one digest instead (bot.deliver.digest); `digest: 1h` channels
  get one per period, when `request_digest` is called (an APScheduler job, bot.runtime.jobs).

Store calls run on one thread of the deliverer's own, so polls never hold up delivery's
database work (nor take its turn in the default thread pool).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.config.settings import Config
from bot.deliver.lease import LEASE_TTL, LeaseKeeper, first_line
from bot.deliver.notes import send_edit, send_notice
from bot.deliver.pacing import Pacer
from bot.deliver.plan import MAX_INLINE_WAIT, Outcome, Work
from bot.deliver.planner import Planner, windows
from bot.deliver.send import Sender
from bot.log import counted
from bot.notify.base import Notifier
from bot.store.database import Store
from bot.store.engine import is_busy

log = logging.getLogger("bot.deliver")

REFRESH = 1.0  # seconds between looks at the outbox for new alerts, edits and digests
# A lock held this long by another writer is worth a warning; shorter waits are routine.
BUSY_PATIENCE = timedelta(minutes=2)
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0  # alerts, each alert of a digest counted
    retrying: int = 0
    failed: int = 0
    uncertain: int = 0
    digests: int = 0
    edits: int = 0
    skipped: bool = False  # another process holds the delivery lease


class Deliverer:
    def __init__(
        self,
        store: Store,
        notifier: Notifier,
        config: Callable[[], Config],
        *,
        clock: Callable[[], datetime],
        sleep: Sleep | None = None,
        lease_ttl: timedelta = LEASE_TTL,
    ) -> None:
        """`config` is read each round, so a reloaded config applies at once. `sleep`
        replaces waiting (tests pass one that advances their clock)."""
        self._store = store
        self._config = config
        self._clock = clock
        self._sleep = sleep
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="postwatch-delivery")
        self._stopping = False
        self._halted = False  # the last round ended early (a drain then stops)
        self._wake = asyncio.Event()
        self._rank: dict[int, int] = {}  # id(work) -> its place in the round's plan
        self._busy_since: datetime | None = None  # the database has been locked since
        self._busy_told = False
        pacer = Pacer(*windows(config().delivery), enabled=notifier.paced)
        self._lease = LeaseKeeper(store, config, clock, self._call, pacer, ttl=lease_ttl)
        self._sender = Sender(
            store=store,
            notifier=notifier,
            config=config,
            clock=clock,
            pacer=pacer,
            call=self._call,
            holder=self._lease.holder,
        )
        self._planner = Planner(store, self._sender, config, clock, self._call)

    @property
    def holder(self) -> str:
        return self._lease.holder

    # --- lifecycle -----------------------------------------------------------------------

    async def run(self) -> None:
        """Deliver until `stop()`: the send on the wire finishes, the lease is released."""
        try:
            while not self._stopping:
                try:
                    if not await self._lease.keep():
                        await self._pause(self._lease.ttl.total_seconds() / 4)
                        continue
                    deadline = self._clock().timestamp() + REFRESH
                    found = await self._round(deadline=deadline)
                    self._busy_since, self._busy_told = None, False
                    if not found:
                        await self._pause(REFRESH)
                except sa.exc.SQLAlchemyError as exc:
                    await self._pause(self._database_trouble(exc))
                except Exception:  # a bug here must not end delivery while polls go on
                    log.exception("delivery loop failed; starting over in 5s")
                    self._sender.preclaimed.clear()
                    self._lease.held = False  # re-take it: that puts back what was `sending`
                    await self._pause(5.0)
        finally:
            await self._lease.release()

    async def drain(self) -> DeliveryReport:
        """Send everything pending now (alerts inside their retry backoff too: the interval
        between one-shot runs is the backoff), then return. Network trouble, or a 429 longer
        than MAX_INLINE_WAIT, ends the drain early; what is left waits for the next run."""
        self._sender.one_shot = self._lease.one_shot = True
        tried: set[object] = set()  # what this drain already tried: it tries each once
        first = True
        try:
            while not self._stopping:
                try:
                    if not await self._lease.keep():
                        if first:  # another process delivers: nothing of ours to do
                            return DeliveryReport(skipped=True)
                        break
                    first = False
                    found = await self._round(deadline=math.inf, tried=tried)
                except sa.exc.SQLAlchemyError as exc:
                    # Another writer's lock is waited out as in `run`; other trouble, or a lock
                    # past BUSY_PATIENCE, leaves what is pending for the next run.
                    if not is_busy(exc) or self._busy_told:
                        raise
                    self._sender.preclaimed.clear()
                    await self._pause(self._database_trouble(exc))
                    continue
                self._busy_since, self._busy_told = None, False
                if not found or self._halted:
                    break
        finally:
            await self._lease.release()
        tally = self._sender.tally
        return DeliveryReport(
            sent=tally.sent,
            retrying=tally.retrying,
            failed=tally.failed,
            uncertain=tally.uncertain,
            digests=tally.digests,
            edits=tally.edits,
        )

    def stop(self) -> None:
        """Finish the request on the wire, then return from `run`."""
        self._stopping = True
        self._wake.set()

    def request_digest(self, channel_id: str) -> None:
        """Send `channel_id`'s waiting alerts as a digest now (its `digest:` period came)."""
        self._planner.requested.add(channel_id)
        self._wake.set()

    async def aclose(self) -> None:
        self._executor.shutdown(wait=True)

    # --- one round -----------------------------------------------------------------------

    async def _round(self, *, deadline: float, tried: set[object] | None = None) -> bool:
        """Plan from the outbox, then send until done or `deadline`. Whether there was work."""
        self._halted = False
        works = await self._planner.plan(tried)
        if not works:
            return False
        queues: dict[str, deque[Work]] = {}
        for work in works:
            queues.setdefault(work.chat, deque()).append(work)
        # Plan order is age order (singles by alert id): among chats ready together, the one
        # whose next unit is oldest goes. Without it the first chats of the dict would take
        # every free slot, and the others would end up alone at the end, paced one by one.
        self._rank = {id(work): rank for rank, work in enumerate(works)}
        pacer = self._sender.pacer
        while queues and not self._stopping:
            now = self._clock().timestamp()
            if now >= deadline:
                break
            # The head of each chat's queue; the soonest ready goes, the oldest on a tie.
            chat = min(queues, key=lambda c: (pacer.ready_at(c, now), self._rank[id(queues[c][0])]))
            ready = pacer.ready_at(chat, now)
            held = pacer.held_until(chat)
            if self._sender.one_shot and held - now > MAX_INLINE_WAIT:
                # A flood wait (maybe stored by an earlier run): the next run honours it too.
                log.warning(
                    "Telegram asked to wait: nothing sent before %s; %s still waiting",
                    datetime.fromtimestamp(held, UTC).isoformat(timespec="seconds"),
                    counted(len(queues), "chat"),
                )
                self._halted = True
                break
            if ready > now:
                await self._pause(min(ready, deadline) - now)
                continue
            if not await self._lease.keep():  # renewed here too: a round can be long
                break
            work = queues[chat][0]
            if tried is not None:
                tried.update(work.keys)
            self._sender.peek = functools.partial(self._peek, queues, work)
            outcome = await self._perform(work)
            if outcome is Outcome.STOP:
                self._lease.recheck()
                self._halted = True
                break
            if outcome is Outcome.DONE:
                queues[chat].popleft()
            if outcome is Outcome.DROP_CHAT or not queues[chat]:
                del queues[chat]
        if self._sender.preclaimed:  # claimed for a send that did not start after all
            await self._call(self._store.release_claims, list(self._sender.preclaimed))
            self._sender.preclaimed.clear()
        return True

    def _peek(self, queues: dict[str, deque[Work]], current: Work) -> Work | None:
        """The alert unit the round takes after `current` if it may go at once, chosen the way
        the round chooses."""
        now = self._clock().timestamp()
        heads = {}
        for chat, queue in queues.items():
            if queue[0] is not current:
                heads[chat] = queue[0]
            elif len(queue) > 1:
                heads[chat] = queue[1]
        if not heads:
            return None
        pacer = self._sender.pacer
        chat = min(heads, key=lambda c: (pacer.ready_at(c, now), self._rank[id(heads[c])]))
        after = heads[chat]
        if pacer.ready_at(chat, now) > now or not after.alerts or after.edit or after.notice:
            return None
        return after

    # --- helpers -------------------------------------------------------------------------

    def _database_trouble(self, exc: sa.exc.SQLAlchemyError) -> float:
        """How long to wait after a database error; nothing is lost either way. A lock held
        by another writer (a large poll) is waited out quietly: it is contention, not trouble,
        until it lasts BUSY_PATIENCE."""
        now = self._clock()
        if not is_busy(exc):
            self._busy_since = None
            log.error("delivery: database error, retrying in 5s: %s", first_line(exc))
            return 5.0
        if self._busy_since is None:
            self._busy_since = now
        waited = now - self._busy_since
        if waited >= BUSY_PATIENCE and not self._busy_told:
            self._busy_told = True
            log.warning("delivery: the database has been locked for %s; still retrying", waited)
        else:
            log.debug("delivery: database busy (%s); retrying in 1s", first_line(exc))
        return 1.0

    async def _perform(self, work: Work) -> Outcome:
        if work.notice is not None:
            log.debug("telling the admins that channel %s is disabled", work.notice.channel_id)
            return await send_notice(self._sender, work.notice)
        if work.edit is not None:
            log.debug("editing alert %d in %s", work.edit.item.alert_id, work.chat)
            return await send_edit(self._sender, work)
        what = "a digest of alerts" if work.digest is not None else "alert"
        log.debug("sending %s %s to %s", what, work.alert_ids, work.chat)
        return await self._sender.send_alerts(work)

    async def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(method, *args, **kwargs)
        )

    async def _pause(self, seconds: float) -> None:
        if self._stopping or seconds <= 0:
            return
        if self._sleep is not None:
            await self._sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()
