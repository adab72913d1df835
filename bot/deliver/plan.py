"""What the delivery loop sends, and how it reads. Pure: no I/O, no clock (`now` is a parameter).

A round's work is a list of `Work` units, each one Telegram request: one alert, one digest part,
one edit, or a notice to the admins. Units queue per chat (the pacing key), oldest first.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.classify.watchlist import highlight_spans
from bot.config.settings import ChannelConfig, Config
from bot.deliver.digest import render_digests
from bot.deliver.measure import CAPTION_LIMIT, MESSAGE_LIMIT
from bot.deliver.render import render_alert, render_plain
from bot.model import Alert, ChannelState, EditItem, OutboxItem
from bot.notify.base import Photo, SendOptions

MAX_RETRY_DELAY = timedelta(minutes=5)
MAX_INLINE_WAIT = 30.0  # a one-shot run waits out a 429 this long, else leaves it for next time


class Outcome(enum.Enum):
    DONE = "done"  # next unit of this chat
    KEEP = "keep"  # the same unit again, once the pacer allows (after a 429)
    DROP_CHAT = "drop chat"  # this chat's other units wait for the next round (order kept)
    STOP = "stop"  # end the round (lease lost; in a one-shot run, network trouble)


@dataclass(frozen=True, slots=True)
class Work:
    """One Telegram request to make."""

    chat: str  # pacing key: the chat as configured, or an admin's user id
    alerts: tuple[OutboxItem, ...] = ()  # one alert, or the alerts of one digest part
    channel: ChannelConfig | None = None
    digest: tuple[str, str] | None = None  # a digest part: (html, plain)
    edit: EditItem | None = None
    notice: ChannelState | None = None  # tell the admins this channel is disabled

    @property
    def alert_ids(self) -> list[int]:
        return [item.alert_id for item in self.alerts]

    @property
    def keys(self) -> list[object]:
        """What this unit tries: its alert ids, or the edit or notice it is."""
        if self.edit is not None:
            return [("edit", self.edit.item.alert_id)]
        if self.notice is not None:
            return [("notice", self.notice.channel_id)]
        return list(self.alert_ids)


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
        also_posted_by=item.also_posted_by,
        source_name=source.name if source else None,
    )


def options_for(channel: ChannelConfig | None, *, digest: bool = False) -> SendOptions:
    if channel is None:
        return SendOptions()
    return SendOptions(
        # A digest has a link per line: a preview of the first one would stand for them all.
        disable_preview=digest or not channel.link_preview,
        silent=channel.silent,
        thread_id=channel.thread_id,
    )


def render_single(
    alert: Alert, channel: ChannelConfig, now: datetime
) -> tuple[str, str, Photo | None]:
    """(html, plain, photo) for one alert: with the post's image when the channel wants media
    and the post has one (the alert then becomes the image's caption)."""
    html = render_alert(alert, now=now, highlight=highlight_spans)
    plain = render_plain(alert, now=now)
    image = alert.post.image_url
    photo = None
    if channel.media and image and image.lower().startswith(("https://", "http://")):
        photo = Photo(
            url=image,
            caption_html=render_alert(
                alert, now=now, highlight=highlight_spans, limit=CAPTION_LIMIT
            ),
            caption_plain=render_plain(alert, now=now, limit=CAPTION_LIMIT),
        )
    return html, plain, photo


def render_edit(alert: Alert, *, caption: bool, now: datetime) -> tuple[str, str]:
    limit = CAPTION_LIMIT if caption else MESSAGE_LIMIT
    return (
        render_alert(alert, now=now, highlight=highlight_spans, limit=limit),
        render_plain(alert, now=now, limit=limit),
    )


def digest_works(
    items: Sequence[OutboxItem], channel: ChannelConfig, config: Config, reason: str
) -> list[Work]:
    """A channel's waiting alerts as digest parts, oldest first."""
    resolved = [(item, resolve_alert(item, config)) for item in items]
    alerts = [alert for _, alert in resolved if alert is not None]
    by_id = {item.alert_id: item for item in items}
    return [
        Work(
            chat=channel.chat_id,
            alerts=tuple(by_id[i] for i in part.alert_ids),
            channel=channel,
            digest=(part.html, part.plain),
        )
        for part in render_digests(alerts, reason)
    ]


def notice_text(state: ChannelState) -> str:
    """The private message admins get, once, when a channel is disabled."""
    return (
        f"postwatch: channel '{state.channel_id}' (chat {state.config_chat}) is disabled: "
        f"{state.disabled_reason}. Its waiting alerts are kept as failed, and nothing more is "
        "sent there until postwatch restarts: re-add the bot (or fix the chat_id in the "
        "config), then restart it."
    )


def backoff(failures: int) -> timedelta:
    """Exponential backoff with jitter: about 2^n seconds, at most MAX_RETRY_DELAY."""
    base = min(2.0**failures, MAX_RETRY_DELAY.total_seconds())
    return timedelta(seconds=base * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not crypto
