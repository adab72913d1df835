"""Digests: many alerts for one channel as one message. Pure: no I/O, no clock.

Two things make a digest. The flood guard (`flood_reason`): a channel with more than
`delivery.burst` alerts waiting, or with one waiting longer than `delivery.max_delay` (a
backlog after an outage), gets one message listing them instead of one message each. And a
channel configured with `digest: 1h` gets its alerts batched into one message per period.

A digest reads:

    🗞 12 alerts · more than 10 were waiting
    • Ukraine ceasefire · whitehouse: Statement on the energy ceasefire talks… open
    • ...

Each line is the topic, the source, the first words and a link. A message holds what fits in
Telegram's 4096 UTF-16 units (checked on both the HTML and the plain fallback); longer lists
are split into numbered parts, so every alert is listed in exactly one message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from bot.config.values import format_duration
from bot.deliver.render import MESSAGE_LIMIT, utf16_len
from bot.model import Alert

FIRST_WORDS = 14
MAX_PREVIEW = 110  # UTF-16 units of a line's text preview, before "…"
_HEADER_ROOM = 80  # units kept for the header, whatever count and reason it shows
_LINK_TEXT = "open"


@dataclass(frozen=True, slots=True)
class Digest:
    html: str
    plain: str
    alert_ids: tuple[int, ...]  # the alerts this message lists, oldest first


def flood_reason(
    waiting: int,
    oldest: datetime | None,
    now: datetime,
    *,
    burst: int,
    max_delay: timedelta,
) -> str | None:
    """Why a channel's waiting alerts should go as a digest, or None to send them one by one."""
    if waiting > burst:
        return f"more than {burst} were waiting"
    if oldest is not None and now - oldest > max_delay:
        return f"some waited over {format_duration(max_delay)}"
    return None


def render_digests(
    alerts: Sequence[Alert], reason: str, *, limit: int = MESSAGE_LIMIT
) -> list[Digest]:
    """The alerts as one digest message, or as numbered parts when they do not fit one."""
    parts: list[list[tuple[str, str, int]]] = [[]]
    used = 0
    budget = limit - _HEADER_ROOM
    for alert in alerts:
        html, plain = _line(alert)
        # The plain line is the longer: it spells the URL out where HTML shows "open".
        size = utf16_len(plain) + 1
        if parts[-1] and used + size > budget:
            parts.append([])
            used = 0
        parts[-1].append((html, plain, alert.alert_id))
        used += size
    digests = []
    for number, lines in enumerate(parts, 1):
        if not lines:
            continue
        header = f"{len(lines)} alerts · {reason}"
        if len(parts) > 1:
            header += f" · part {number} of {len(parts)}"
        digests.append(
            Digest(
                html="\n".join(
                    [f"🗞 <b>{escape(header, quote=False)}</b>", ""] + [h for h, _, _ in lines]
                ),
                plain="\n".join([f"🗞 {header}", ""] + [p for _, p, _ in lines]),
                alert_ids=tuple(i for _, _, i in lines),
            )
        )
    return digests


def _line(alert: Alert) -> tuple[str, str]:
    topics = ", ".join(alert.topic_names)
    source = alert.post.source_id
    preview = first_words(alert.post.title or alert.post.text)
    url = (
        alert.post.url
        if alert.post.url and alert.post.url.lower().startswith(("https://", "http://"))
        else None
    )
    html = f"• <b>{_e(topics)}</b> · <i>{_e(source)}</i>: {_e(preview)}"
    plain = f"• {topics} · {source}: {preview}"
    if url:
        html += f' <a href="{escape(url, quote=True)}">{_LINK_TEXT}</a>'
        plain += f" {url}"
    return html, plain


def first_words(text: str, words: int = FIRST_WORDS, limit: int = MAX_PREVIEW) -> str:
    """The first `words` words of `text` on one line, within `limit` UTF-16 units, "…" when cut."""
    parts = text.split()
    kept = parts[:words]
    cut = len(parts) > words
    while len(kept) > 1 and utf16_len(" ".join(kept)) > limit:
        kept.pop()
        cut = True
    preview = " ".join(kept)
    while utf16_len(preview) > limit:  # one very long word
        preview = preview[:-1]
        cut = True
    if cut:
        preview = preview.rstrip(" ,.;:—-") + "…"
    return preview


def _e(text: str) -> str:
    return escape(text, quote=False)
