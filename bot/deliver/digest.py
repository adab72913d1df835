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
Telegram's 4096 UTF-16 units (checked on both the HTML and the plain fallback) and under the
100 or so entities Telegram formats in one message; longer lists are split into numbered parts,
so every alert is listed in exactly one message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from bot.config.values import format_duration
from bot.deliver.measure import MAX_ENTITIES, MESSAGE_LIMIT, entity_count, sendable, utf16_len
from bot.log import counted
from bot.model import Alert

FIRST_WORDS = 14
MAX_PREVIEW = 110  # UTF-16 units of a line's text preview, before "…"
MAX_NAME = 200  # UTF-16 units of a line's topics, and of its source id
# A link spelled out in the plain fallback; a longer one is left to the HTML digest's "open".
MAX_PLAIN_URL = 2000
_HEADER_ROOM = 80  # units kept for the header, whatever count and reason it shows
_HEADER_ENTITIES = 1  # its <b>
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
    used = entities = 0
    budget = limit - _HEADER_ROOM
    for alert in alerts:
        html, plain = _line(alert)
        # The plain line is the longer: it spells the URL out where HTML shows "open".
        size = utf16_len(plain) + 1
        # Telegram formats about 100 entities a message; each line brings 3 and what it finds.
        count = entity_count(html)
        if parts[-1] and (
            used + size > budget or entities + count > MAX_ENTITIES - _HEADER_ENTITIES
        ):
            parts.append([])
            used = entities = 0
        parts[-1].append((html, plain, alert.alert_id))
        used += size
        entities += count
    digests = []
    for number, lines in enumerate(parts, 1):
        if not lines:
            continue
        header = f"{counted(len(lines), 'alert')} · {reason}"
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
    """One alert's line, HTML and plain. Every part is bounded, so any line fits a message
    (a line longer than a message would make a part Telegram refuses)."""
    topics = first_words(sendable(", ".join(alert.topic_names)), MAX_NAME, MAX_NAME)
    source = first_words(sendable(alert.post.source_id), MAX_NAME, MAX_NAME)
    preview = first_words(sendable(alert.post.title or alert.post.text))
    url = sendable(alert.post.url or "")
    if not url.lower().startswith(("https://", "http://")):
        url = ""
    html = f"• <b>{_e(topics)}</b> · <i>{_e(source)}</i>: {_e(preview)}"
    plain = f"• {topics} · {source}: {preview}"
    if url:
        html += f' <a href="{escape(url, quote=True)}">{_LINK_TEXT}</a>'
        if utf16_len(url) <= MAX_PLAIN_URL:  # else the plain fallback goes without it
            plain += f" {url}"
    return html, plain


def first_words(text: str, words: int = FIRST_WORDS, limit: int = MAX_PREVIEW) -> str:
    """The first `words` words of `text` on one line, within `limit` UTF-16 units, "…" when cut."""
    parts = text.split(maxsplit=words)  # the rest stays one string: a long text costs no more
    cut = len(parts) > words
    # A word is at least one unit per code point, so `limit + 1` of them is already too long
    # and is cut below anyway: bounding it keeps a megabyte-long "word" (base64) cheap.
    kept = [word[: limit + 1] for word in parts[:words]]
    while len(kept) > 1 and utf16_len(" ".join(kept)) > limit:
        kept.pop()
        cut = True
    preview = " ".join(kept)
    while utf16_len(preview) > limit:  # one very long word, at most `limit + 1` code points
        preview = preview[:-1]
        cut = True
    if cut:
        preview = preview.rstrip(" ,.;:—-") + "…"
    return preview


def _e(text: str) -> str:
    return escape(text, quote=False)
