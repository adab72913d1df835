"""Delivery: outbox → render → send → record.

"Sent" is written only once the recipient answered.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import Config
from bot.errors import PermanentDeliveryError, TransientDeliveryError
from bot.matcher import highlight_spans
from bot.model import Alert, OutboxItem
from bot.notify import Notifier
from bot.render import render_alert, render_plain
from bot.store import Store

log = logging.getLogger(__name__)

MAX_RETRY_DELAY = timedelta(minutes=15)
# A 429 shorter than this is waited out in place; longer ones end the round (order is kept:
# the alert stays first in line).
MAX_INLINE_WAIT = 30.0


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def resolve_alert(item: OutboxItem, config: Config) -> Alert | None:
    """Join an outbox item with the current config; None when its channel no longer exists."""
    channel = next((c for c in config.channels if c.id == item.channel_id), None)
    if channel is None:
        return None
    source = next((s for s in config.sources if s.id == item.post.source_id), None)
    topic_names = {t.id: t.name for t in config.topics}
    return Alert(
        alert_id=item.alert_id,
        chat_id=channel.chat_id,
        post=item.post,
        source_kind=source.kind if source else "rss",
        topic_names=tuple(topic_names.get(t, t) for t in item.topic_ids),
        terms=item.terms,
    )


def retry_delay(attempts: int, retry_after: float | None) -> timedelta:
    """Telegram's retry_after when it gave one, else exponential backoff with jitter."""
    if retry_after is not None:
        return timedelta(seconds=retry_after)
    base = min(2.0**attempts, MAX_RETRY_DELAY.total_seconds())
    return timedelta(seconds=base * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not crypto


async def deliver_pending(
    store: Store,
    notifier: Notifier,
    config: Config,
    *,
    clock: Callable[[], datetime],
    due_only: bool = True,
    batch: int = 100,
) -> DeliveryReport:
    """Send pending alerts once each, oldest first.

    `due_only=False` (used by `run --once`) also takes alerts still inside their retry backoff:
    a one-shot run delivers everything pending, and the interval between runs is the backoff.
    """
    sent = retrying = failed = 0
    horizon = datetime.max.replace(tzinfo=clock().tzinfo) if not due_only else None
    tried: set[int] = set()
    while True:
        items = await asyncio.to_thread(store.pending_alerts, horizon or clock(), batch)
        items = [i for i in items if i.alert_id not in tried]
        if not items:
            break
        for item in items:
            tried.add(item.alert_id)
            outcome = await _deliver_one(store, notifier, config, item, clock)
            if outcome == "sent":
                sent += 1
            elif outcome == "failed":
                failed += 1
            else:
                retrying += 1
                if outcome == "throttled":
                    return DeliveryReport(sent, retrying, failed)
    return DeliveryReport(sent, retrying, failed)


async def _deliver_one(
    store: Store,
    notifier: Notifier,
    config: Config,
    item: OutboxItem,
    clock: Callable[[], datetime],
) -> str:
    alert = resolve_alert(item, config)
    if alert is None:
        await asyncio.to_thread(
            store.mark_failed,
            item.alert_id,
            f"channel {item.channel_id!r} is not configured",
            clock(),
        )
        return "failed"
    html = render_alert(alert, now=clock(), highlight=highlight_spans)
    plain = render_plain(alert, now=clock())
    for _ in range(2):
        try:
            message = await notifier.send(alert.chat_id, html, plain=plain)
        except TransientDeliveryError as exc:
            if exc.retry_after is not None and exc.retry_after <= MAX_INLINE_WAIT:
                log.info("alert %d: throttled, waiting %.0fs", item.alert_id, exc.retry_after)
                await asyncio.sleep(exc.retry_after)
                continue
            return await _retry_later(store, item, exc, clock)
        except PermanentDeliveryError as exc:
            log.error("alert %d to %s failed permanently: %s", item.alert_id, item.channel_id, exc)
            await asyncio.to_thread(store.mark_failed, item.alert_id, str(exc), clock())
            return "failed"
        await asyncio.to_thread(store.mark_sent, item.alert_id, message.message_id, clock())
        return "sent"
    return await _retry_later(store, item, TransientDeliveryError("still throttled"), clock)


async def _retry_later(
    store: Store, item: OutboxItem, exc: TransientDeliveryError, clock: Callable[[], datetime]
) -> str:
    delay = retry_delay(item.attempts + 1, exc.retry_after)
    log.warning("alert %d to %s: %s; retrying in %s", item.alert_id, item.channel_id, exc, delay)
    await asyncio.to_thread(store.mark_retry, item.alert_id, str(exc), clock() + delay)
    return "throttled" if exc.retry_after is not None else "retrying"
