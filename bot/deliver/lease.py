"""The delivery loop's hold on its database: the lease taken, renewed every quarter of its TTL
and released (holder identities and who is dead: bot.deliver.holder). Taking it puts back what the
previous holder left `sending`, and what it sent lately, into this process's pacer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.config.settings import Config
from bot.deliver import holder as leases
from bot.deliver.pacing import Pacer
from bot.deliver.planner import windows
from bot.store.database import Store
from bot.store.flood import ALL_CHATS

log = logging.getLogger("bot.deliver")

# Longer than the slowest send (connect + write + a photo's read timeout); renewed every quarter.
LEASE_TTL = timedelta(seconds=60)
MAX_INTERRUPTIONS = 5  # an alert interrupted by this many crashes is failed, not resent
_LONG_AGO = datetime.min.replace(tzinfo=UTC)


class LeaseKeeper:
    def __init__(
        self,
        store: Store,
        config: Callable[[], Config],
        clock: Callable[[], datetime],
        call: Callable[..., Awaitable[Any]],
        pacer: Pacer,
        *,
        ttl: timedelta = LEASE_TTL,
    ) -> None:
        """`call` runs a Store method on the delivery thread."""
        self._store = store
        self._config = config
        self._clock = clock
        self._call = call
        self._pacer = pacer
        self.ttl = ttl
        self.holder = leases.new_holder()
        self.held = False  # set False to take it again, putting back what was `sending`
        self._renew_at = _LONG_AGO
        self._started = False  # the first lease of this process was taken
        self.one_shot = False  # `run --once`: it does not wait for a lease another holds

    async def keep(self) -> bool:
        """Whether this process holds the lease now, taking or renewing it when due."""
        now = self._clock()
        if self.held and now < self._renew_at:
            return True
        lease = await self._call(
            self._store.acquire_lease, self.holder, now, self.ttl, leases.is_dead
        )
        if not lease.held:
            if self.held or not self._started:
                then = (
                    "this run leaves the waiting alerts to it"
                    if self.one_shot
                    else "waiting for its lease, which runs until "
                    + lease.expires_at.isoformat(timespec="seconds")
                )
                log.warning(
                    "another postwatch process (%s) is delivering for this database; %s",
                    lease.holder,
                    then,
                )
            self.held = False
            self._started = True
            return False
        if not self.held:
            await self._taken(lease.previous, now)
        self.held = True
        self._renew_at = now + self.ttl / 4
        return True

    def recheck(self) -> None:
        """Ask the database at the next `keep`, before the renewal is due."""
        self._renew_at = _LONG_AGO

    async def _taken(self, previous: str | None, now: datetime) -> None:
        if previous is not None:
            log.info("delivery lease taken over from %s (stopped or expired)", previous)
        resent, failed = await self._call(self._store.recover_sending, now, MAX_INTERRUPTIONS)
        if resent:
            log.warning(
                "alerts %s were being sent when the last process stopped: sending again "
                "(each may arrive twice)",
                resent,
            )
        if failed:
            log.error("alerts %s interrupted %d times: failed", failed, MAX_INTERRUPTIONS)
        # The pacer's memory died with the previous process: what it sent within the longest
        # window still counts against Telegram's limits.
        chats = {c.id: c.chat_id for c in self._config().channels}
        longest = max(w.seconds for w in windows(self._config().delivery))
        for channel_id, at in await self._call(
            self._store.recent_sends, now - timedelta(seconds=longest)
        ):
            if channel_id in chats:
                self._pacer.record(chats[channel_id], at.timestamp())
        # So did its flood waits: a 429's retry_after outlives the process that got it.
        for scope, until in (await self._call(self._store.flood_holds, now)).items():
            chat = None if scope == ALL_CHATS else scope
            self._pacer.hold(until.timestamp(), chat)
            log.warning(
                "Telegram asked to wait: nothing is sent to %s before %s",
                "any chat" if chat is None else chat,
                until.isoformat(timespec="seconds"),
            )
        if not self._started:
            for channel_id in await self._call(self._store.enable_channels):
                if channel_id in chats:  # a channel since removed from the config is news to no one
                    log.info("channel %s: enabled again at start (it was disabled)", channel_id)
        self._started = True

    async def release(self) -> None:
        if self.held:
            self.held = False
            try:
                await self._call(self._store.release_lease, self.holder, self._clock())
            except sa.exc.SQLAlchemyError as exc:  # it expires by itself
                log.warning("could not release the delivery lease: %s", first_line(exc))
        leases.retire(self.holder)


def first_line(exc: BaseException) -> str:
    """An exception's first line: SQLAlchemy's go on with the SQL and a help link."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
