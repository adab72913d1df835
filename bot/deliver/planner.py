"""The delivery loop's planning: what a round sends, read from the outbox.

Each round: alerts polls queued for disabled channels are failed and admins told once; a
channel past the flood guard (or whose `digest:` period came) gets digest parts; every other
channel its due alerts one by one, oldest first; then due edits. Nothing is sent here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from bot.config.settings import ChannelConfig, Config, DeliverySettings
from bot.config.values import format_duration
from bot.deliver.digest import flood_reason
from bot.deliver.pacing import Window
from bot.deliver.plan import Work, digest_works
from bot.deliver.send import Sender
from bot.model import ChannelState
from bot.store.database import Store

log = logging.getLogger("bot.deliver")

BATCH = 200  # single alerts read per round
FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


class Planner:
    def __init__(
        self,
        store: Store,
        sender: Sender,
        config: Callable[[], Config],
        clock: Callable[[], datetime],
        run: Callable[..., Awaitable[Any]],
    ) -> None:
        """`run` runs a Store method on the delivery thread."""
        self._store = store
        self._sender = sender
        self._config = config
        self._clock = clock
        self._run = run
        self.requested: set[str] = set()  # digest channels whose period came (request_digest)
        self.catch_up = True  # the first round: digest periods that passed while down

    async def plan(self, tried: set[object] | None) -> list[Work]:
        """This round's work, oldest first: notices, digests, single alerts, then edits."""
        config = self._config()
        self._sender.pacer.set_limits(*windows(config.delivery))
        now = self._clock()
        states: dict[str, ChannelState] = await self._run(
            self._store.channel_states, {c.id: c.chat_id for c in config.channels}
        )
        self._sender.states = states
        backlog = await self._run(self._store.backlog)
        held: set[str] = set()  # channels not sent one alert at a time this round
        works = await self._plan_disabled(config, states, backlog, held, now)
        works += await self._plan_digests(config, states, backlog, held, now, tried=tried)
        works += await self._plan_singles(config, held, now, tried)
        for edit in await self._run(self._store.due_edits, now, BATCH):
            channel = _channel(config, edit.item.channel_id)
            if channel is not None:
                works.append(Work(chat=channel.chat_id, channel=channel, edit=edit))
            else:
                await self._run(self._store.defer_edit, edit.item.alert_id, None)
        return _untried(works, tried)

    async def _plan_disabled(
        self,
        config: Config,
        states: dict[str, ChannelState],
        backlog: dict[str, tuple[int, datetime]],
        held: set[str],
        now: datetime,
    ) -> list[Work]:
        """Fail what polls queued for disabled channels; tell the admins about new ones."""
        works = []
        for channel_id, state in states.items():
            if state.disabled_reason is None:
                continue
            held.add(channel_id)
            if channel_id in backlog:
                reason = f"channel disabled: {state.disabled_reason}"
                await self._run(self._store.fail_channel_alerts, channel_id, reason, now)
            if state.admins_told_at is None:
                admins = config.telegram.admins
                works.append(Work(chat=str(admins[0]) if admins else "admins", notice=state))
        return works

    async def _plan_digests(
        self,
        config: Config,
        states: dict[str, ChannelState],
        backlog: dict[str, tuple[int, datetime]],
        held: set[str],
        now: datetime,
        *,
        tried: set[object] | None,
    ) -> list[Work]:
        works: list[Work] = []
        for channel_id, (waiting, oldest) in backlog.items():
            channel = _channel(config, channel_id)
            if channel is None or channel_id in held:
                continue
            if channel.digest is not None:
                held.add(channel_id)  # between its digests, a digest channel sends nothing
            why = self._digest_reason(
                channel, states[channel_id], waiting=waiting, oldest=oldest, now=now
            )
            if why is None:
                continue
            held.add(channel_id)
            horizon = now if tried is None else FAR_FUTURE
            items = await self._run(self._store.channel_alerts, channel_id, horizon)
            items = [i for i in items if tried is None or i.alert_id not in tried]
            works += digest_works(items, channel, config, why)
        self.requested.clear()
        self.catch_up = False
        return works

    async def _plan_singles(
        self, config: Config, held: set[str], now: datetime, tried: set[object] | None
    ) -> list[Work]:
        horizon = now if tried is None else FAR_FUTURE
        works = []
        for item in await self._run(self._store.due_alerts, horizon, BATCH, sorted(held)):
            if tried is not None and item.alert_id in tried:
                continue
            channel = _channel(config, item.channel_id)
            if channel is not None:
                works.append(Work(chat=channel.chat_id, alerts=(item,), channel=channel))
                continue
            reason = f"channel {item.channel_id!r} is not configured"
            log.error("alert %d: %s: failed", item.alert_id, reason)
            await self._run(self._store.record_failed, item.alert_id, reason, now)
        return works

    def _digest_reason(
        self,
        channel: ChannelConfig,
        state: ChannelState,
        *,
        waiting: int,
        oldest: datetime,
        now: datetime,
    ) -> str | None:
        settings = self._config().delivery
        if channel.digest is None:
            return flood_reason(
                waiting, oldest, now, burst=settings.burst, max_delay=settings.max_delay
            )
        every = f"the digest every {format_duration(channel.digest)}"
        if channel.id in self.requested:
            return every
        # A one-shot run, or the first round after a start: periods that passed while down.
        if self._sender.one_shot or self.catch_up:
            since = state.last_digest_at or oldest
            return every if now - since >= channel.digest else None
        return None


def windows(settings: DeliverySettings) -> tuple[Window, Window, Window]:
    """The pacer's windows for the configured limits: overall, per chat, per group."""
    return (
        Window(settings.overall.count, settings.overall.per.total_seconds()),
        Window(settings.per_chat.count, settings.per_chat.per.total_seconds()),
        Window(settings.per_group.count, settings.per_group.per.total_seconds()),
    )


def _channel(config: Config, channel_id: str) -> ChannelConfig | None:
    return next((c for c in config.channels if c.id == channel_id), None)


def _untried(works: list[Work], tried: set[object] | None) -> list[Work]:
    return works if tried is None else [w for w in works if not tried.intersection(w.keys)]
