"""Requests of the delivery loop that are not new alerts: edits of sent alerts ("Also posted
by: ..."), and the one private notice to the admins when a channel is disabled.

An edit is idempotent (sent twice, it shows the same text), so any failure to make one is
simply retried later; one Telegram refuses is dropped.
"""

from __future__ import annotations

import logging
from html import escape

from bot.deliver.plan import (
    Outcome,
    Work,
    backoff,
    notice_text,
    options_for,
    render_edit,
    resolve_alert,
)
from bot.deliver.send import Sender
from bot.errors import DeliveryError, TransientDeliveryError
from bot.model import ChannelState

log = logging.getLogger("bot.deliver")


async def send_edit(sender: Sender, work: Work) -> Outcome:
    """Edit a sent alert to show new also-posted-by names."""
    edit = work.edit
    assert edit is not None
    alert_id = edit.item.alert_id
    now = sender.clock()
    alert = resolve_alert(edit.item, sender.config())
    if alert is None:
        await sender.call(sender.store.defer_edit, alert_id, None)
        return Outcome.DONE
    html, plain = render_edit(alert, caption=edit.caption, now=now)
    try:
        await sender.notifier.edit(
            str(edit.chat_number),
            edit.message_id,
            html,
            plain,
            caption=edit.caption,
            options=options_for(work.channel),
        )
    except TransientDeliveryError as exc:
        if exc.retry_after is not None:
            await sender.flood_wait(work.chat, exc.retry_after)
            return Outcome.KEEP
        # An edit sent twice shows the same text: retrying is always safe.
        delay = backoff(sender.network_failures + 1)
        log.warning(
            "alert %d: edit failed (%s); retrying in %.0fs",
            alert_id,
            exc,
            delay.total_seconds(),
        )
        await sender.call(sender.store.defer_edit, alert_id, now + delay)
        return Outcome.DONE
    except DeliveryError as exc:
        log.warning("alert %d: edit refused, not retried: %s", alert_id, exc)
        await sender.call(sender.store.defer_edit, alert_id, None)
        return Outcome.DONE
    at = sender.clock()
    await sender.call(sender.store.record_edited, alert_id, edit.item.also_posted_by, at)
    sender.pacer.record(work.chat, at.timestamp())
    sender.tally.edits += 1
    return Outcome.DONE


async def send_notice(sender: Sender, state: ChannelState) -> Outcome:
    """Tell every admin, in a private message, that a channel is disabled; once."""
    text = notice_text(state)
    admins = sender.config().telegram.admins
    if not admins:
        log.warning("no telegram.admins configured to tell: %s", text)
    for admin in admins:
        try:
            await sender.notifier.send(str(admin), escape(text, quote=False), plain=text)
        except TransientDeliveryError as exc:
            if exc.retry_after is not None:
                await sender.flood_wait(str(admin), exc.retry_after)
                return Outcome.KEEP
            sender.network_failures += 1
            delay = backoff(sender.network_failures).total_seconds()
            sender.pacer.hold(sender.clock().timestamp() + delay)
            log.warning("could not tell admin %d yet (%s); trying again later", admin, exc)
            return Outcome.DONE
        except DeliveryError as exc:
            # Usually: the admin never opened a chat with the bot, so it may not write first.
            log.warning(
                "could not tell admin %d that %s is disabled: %s", admin, state.channel_id, exc
            )
        sender.pacer.record(str(admin), sender.clock().timestamp())
    await sender.call(
        sender.store.update_channel,
        state.channel_id,
        state.config_chat,
        admins_told_at=sender.clock(),
    )
    return Outcome.DONE
