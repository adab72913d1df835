"""One Telegram request of the delivery loop, and what each answer does to the outbox.

sent                  → sent (with latency); the chat id Telegram answered is remembered
429 retry_after       → everything waits exactly retry_after; the alert keeps its place
network, 5xx          → everything waits (exponential backoff with jitter); order kept
ambiguous (timeout after sending)
                      → resent once, after that backoff; a second time → `uncertain`:
                        maybe delivered, not resent, counted in `postwatch stats`
group migrated        → the new chat id is stored and the alert resent to it at once
403 / chat not found  → the channel is disabled, its waiting alerts failed, admins told once
can't parse entities  → resent as plain text (in the notifier)
other 400, or a bug   → retried with backoff, at most MAX_REFUSALS times, then failed
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from bot.config.settings import Config
from bot.deliver.pacing import Pacer
from bot.deliver.plan import (
    MAX_INLINE_WAIT,
    Outcome,
    Work,
    backoff,
    options_for,
    render_single,
    resolve_alert,
)
from bot.errors import (
    AmbiguousDeliveryError,
    ChatMigratedError,
    ChatUnavailableError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from bot.model import ChannelState, SentMessage
from bot.notify.base import Notifier
from bot.store.database import Store
from bot.store.flood import ALL_CHATS

log = logging.getLogger("bot.deliver")

MAX_REFUSALS = 3  # a message Telegram refuses (400) is tried this many times
MAX_AMBIGUOUS = 2  # the second send that may have arrived unanswered makes it `uncertain`
# A retry_after beyond a week is a broken answer, not a wait to keep (nor a datetime overflow).
MAX_FLOOD_WAIT = 7 * 24 * 3600.0


@dataclass
class Tally:
    sent: int = 0
    digests: int = 0
    edits: int = 0
    retrying: int = 0
    failed: int = 0
    uncertain: int = 0


@dataclass
class Sender:
    """What sending needs; the Deliverer owns it and keeps `states` current each round."""

    store: Store
    notifier: Notifier
    config: Callable[[], Config]
    clock: Callable[[], datetime]
    pacer: Pacer
    call: Callable[..., Awaitable[Any]]  # run a Store method on the delivery thread
    holder: str
    states: dict[str, ChannelState] = field(default_factory=dict)
    tally: Tally = field(default_factory=Tally)
    network_failures: int = 0
    one_shot: bool = False  # `run --once`: stop at network trouble instead of waiting
    # The round's next unit when it may go at once: its claim then shares the commit that
    # records this send. What was claimed so, and not yet sent, waits in `preclaimed`.
    peek: Callable[[], Work | None] = lambda: None
    preclaimed: dict[int, tuple[str, ...]] = field(default_factory=dict)

    async def flood_wait(self, chat: str, retry_after: float) -> None:
        """Telegram answered 429: nothing goes before retry_after, to this chat or any other
        (flood control is per bot), and this unit is next. Stored first, so a restart or the
        next `run --once` waits too instead of sending into the wait."""
        until = self.clock() + timedelta(seconds=min(retry_after, MAX_FLOOD_WAIT))
        await self.call(self.store.hold_sends, [ALL_CHATS, chat], until)
        self.pacer.hold(until.timestamp())
        self.pacer.hold(until.timestamp(), chat)

    async def send_alerts(self, work: Work) -> Outcome:
        """Send one alert or one digest (edits and notices: bot.deliver.notes)."""
        channel = work.channel
        assert channel is not None
        ids = work.alert_ids
        if all(i in self.preclaimed for i in ids):
            claimed = {i: self.preclaimed.pop(i) for i in ids}
        else:
            claimed = await self.call(self.store.claim, ids, self.holder, self.clock())
        if set(claimed) != set(ids):
            log.warning("delivery lease lost: another process delivers now")
            return Outcome.STOP
        # Rendered with the names as claimed; any recorded from now on get an edit.
        work = replace(
            work,
            alerts=tuple(replace(i, also_posted_by=claimed[i.alert_id]) for i in work.alerts),
        )
        state = self.states.get(channel.id) or ChannelState(channel.id, channel.chat_id)
        # A numeric chat may have migrated (the stored id is the new one); a @username stays
        # the address, so a channel that changes hands with its username is followed.
        numeric = state.chat_number and not channel.chat_id.startswith("@")
        target = str(state.chat_number) if numeric else channel.chat_id
        try:
            sent = await self._send(work, target, state)
        except TransientDeliveryError as exc:
            return await self._transient(work, exc)
        except ChatUnavailableError as exc:
            await self._disable(state, str(exc))
            return Outcome.DROP_CHAT
        except PermanentDeliveryError as exc:
            return await self._refused(work, str(exc))
        except Exception as exc:  # a bug with one alert must not stop the others (bounded)
            log.exception("alerts %s: unexpected error while sending", ids)
            return await self._refused(work, f"internal error: {type(exc).__name__}: {exc}")
        await self._sent(work, sent, state)
        return Outcome.DONE

    async def _send(self, work: Work, target: str, state: ChannelState) -> SentMessage:
        channel = work.channel
        assert channel is not None
        digest = work.digest
        photo = None
        if digest is not None:
            html, plain = digest
        else:
            alert = resolve_alert(work.alerts[0], self.config())
            if alert is None:  # the config was reloaded under us
                raise PermanentDeliveryError(f"channel {channel.id!r} is not configured")
            html, plain, photo = render_single(alert, channel, self.clock())
        options = options_for(channel, digest=digest is not None)
        try:
            return await self.notifier.send(target, html, plain=plain, options=options, photo=photo)
        except ChatMigratedError as exc:
            # https://core.telegram.org/bots/api#responseparameters: migrate_to_chat_id
            log.warning(
                "channel %s: the group became supergroup %d; sending there (set chat_id: "
                "'%d' in the config)",
                channel.id,
                exc.new_chat_id,
                exc.new_chat_id,
            )
            await self.call(
                self.store.update_channel, channel.id, state.config_chat, chat_id=exc.new_chat_id
            )
            self.states[channel.id] = ChannelState(
                channel.id, state.config_chat, exc.new_chat_id, last_digest_at=state.last_digest_at
            )
            return await self.notifier.send(
                str(exc.new_chat_id), html, plain=plain, options=options, photo=photo
            )

    async def _sent(self, work: Work, sent: SentMessage, state: ChannelState) -> None:
        at = self.clock()
        delivered_as = "digest" if work.digest else "photo" if sent.photo else "message"
        created = {item.alert_id: item.created_at for item in work.alerts}
        self.pacer.record(work.chat, at.timestamp())
        after = self.peek()
        claimed = await self.call(
            self.store.record_sent,
            work.alert_ids,
            sent,
            at,
            delivered_as,
            created,
            claim_next=after.alert_ids if after is not None else [],
            holder=self.holder,
        )
        self.preclaimed.update(claimed)
        self.network_failures = 0
        self.tally.sent += len(work.alerts)
        self.tally.digests += work.digest is not None
        channel = work.channel
        assert channel is not None
        facts: dict[str, object] = {}
        if sent.chat_number is not None and sent.chat_number != state.chat_number:
            facts["chat_id"] = sent.chat_number  # stored as a 64-bit integer from now on
        if state.admins_told_at is not None:
            facts["admins_told_at"] = None  # it works again: a new outage is news again
        if work.digest and channel.digest is not None:
            facts["last_digest_at"] = at
        if facts:
            await self.call(self.store.update_channel, channel.id, state.config_chat, **facts)
            self.states[channel.id] = ChannelState(
                channel.id,
                state.config_chat,
                sent.chat_number or state.chat_number,
                last_digest_at=at if "last_digest_at" in facts else state.last_digest_at,
            )

    async def _transient(self, work: Work, exc: TransientDeliveryError) -> Outcome:
        now = self.clock()
        ids = work.alert_ids
        if exc.retry_after is not None:
            await self.flood_wait(work.chat, exc.retry_after)
            await self.call(self.store.record_retry, ids, str(exc), now)
            log.warning("alerts %s: Telegram asked to wait %gs", ids, exc.retry_after)
            long = exc.retry_after > MAX_INLINE_WAIT
            return Outcome.STOP if self.one_shot and long else Outcome.KEEP
        self.network_failures += 1
        delay = backoff(self.network_failures)
        self.pacer.hold(now.timestamp() + delay.total_seconds())
        if isinstance(exc, AmbiguousDeliveryError) and any(
            item.ambiguous + 1 >= MAX_AMBIGUOUS for item in work.alerts
        ):
            log.error(
                "alerts %s: %s; sent twice without an answer, so not resent: marked uncertain",
                ids,
                exc,
            )
            await self.call(self.store.record_failed, ids, str(exc), now, uncertain=True)
            self.tally.uncertain += len(ids)
            return Outcome.DROP_CHAT
        ambiguous = isinstance(exc, AmbiguousDeliveryError)
        log.warning("alerts %s: %s; retrying in %.0fs", ids, exc, delay.total_seconds())
        # Due at once, so it stays first in its channel's line; the hold above does the waiting.
        await self.call(self.store.record_retry, ids, str(exc), now, ambiguous=ambiguous)
        self.tally.retrying += len(ids)
        return Outcome.STOP if self.one_shot else Outcome.DROP_CHAT

    async def _refused(self, work: Work, reason: str) -> Outcome:
        now = self.clock()
        ids = work.alert_ids
        strikes = max(item.strikes for item in work.alerts) + 1
        if strikes >= MAX_REFUSALS:
            log.error("alerts %s failed after %d tries: %s", ids, strikes, reason)
            await self.call(self.store.record_failed, ids, reason, now)
            self.tally.failed += len(ids)
        else:
            delay = backoff(strikes)
            log.warning(
                "alerts %s refused (%s); tried %d of %d times, again in %.0fs",
                ids,
                reason,
                strikes,
                MAX_REFUSALS,
                delay.total_seconds(),
            )
            await self.call(self.store.record_retry, ids, reason, now + delay, strike=True)
            self.tally.retrying += len(ids)
        return Outcome.DONE

    async def _disable(self, state: ChannelState, reason: str) -> None:
        now = self.clock()
        failed = await self.call(
            self.store.disable_channel, state.channel_id, state.config_chat, reason, now
        )
        log.error(
            "channel %s (%s) disabled: %s; %d waiting alerts kept as failed",
            state.channel_id,
            state.config_chat,
            reason,
            failed,
        )
        self.tally.failed += failed
        self.states[state.channel_id] = ChannelState(
            state.channel_id,
            state.config_chat,
            state.chat_number,
            disabled_reason=reason,
            disabled_at=now,
            admins_told_at=state.admins_told_at,
        )
