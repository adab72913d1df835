"""What Telegram enforces, strictly, for the fake Bot API server.

- HTML parse mode (https://core.telegram.org/bots/api#html-style): only the tags below; every
  <, > and & outside a tag or entity escaped; named entities only &lt; &gt; &amp; &quot;,
  numeric ones all. Stricter than Telegram where it is lenient: a renderer passing here passes
  there.
- Text limits: 4096 (message) and 1024 (caption) UTF-16 code units after entity parsing.
- Flood limits: unpublished; the FAQ (https://core.telegram.org/bots/faq) gives about 30
  messages/s overall, 1/s per private chat, 20/min per group or channel.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

MESSAGE_LIMIT, CAPTION_LIMIT = 4096, 1024

_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler"}
    | {"a", "code", "pre", "blockquote", "tg-emoji"}
)
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TOKEN = re.compile(
    r"<(?P<close>/?)(?P<tag>[a-zA-Z][a-zA-Z0-9-]*)(?P<attrs>(?:\s[^<>]*)?)>"
    r"|&(?P<entity>#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]+);"
    r"|(?P<bare>[<>&])"
)
_ATTR = re.compile(r'\s*([a-zA-Z-]+)\s*=\s*"([^"]*)"\s*')


class HtmlError(ValueError):
    """Worded like Telegram's "can't parse entities: ..." detail."""


def visible_text(html: str) -> str:
    """The text Telegram shows for `html`, or HtmlError where Telegram would refuse it."""
    out: list[str] = []
    open_tags: list[str] = []
    position = 0
    for match in _TOKEN.finditer(html):
        out.append(html[position : match.start()])
        position = match.end()
        offset = len(html[: match.start()].encode())
        if match["bare"]:
            raise HtmlError(f"unescaped {match['bare']!r} at byte offset {offset}")
        if match["entity"]:
            out.append(_entity(match["entity"], offset))
            continue
        tag = match["tag"].lower()
        if tag not in _TAGS:
            raise HtmlError(f'Unsupported start tag "{tag}" at byte offset {offset}')
        if match["close"]:
            if not open_tags or open_tags.pop() != tag:
                raise HtmlError(f'Unmatched end tag at byte offset {offset}, expected "{tag}"')
            continue
        if tag == "a":
            _check_link(match["attrs"], offset)
        open_tags.append(tag)
    out.append(html[position:])
    if open_tags:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(out)


def _entity(name: str, offset: int) -> str:
    try:
        if name.startswith(("#x", "#X")):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
    except ValueError:  # past U+10FFFF
        raise HtmlError(f"Invalid character entity at byte offset {offset}") from None
    if name in _NAMED:
        return _NAMED[name]
    raise HtmlError(f'Unsupported HTML entity "&{name};" at byte offset {offset}')


def _check_link(attrs: str, offset: int) -> None:
    found = dict(_ATTR.findall(attrs))
    href = visible_text(found.get("href", ""))  # attribute values are escaped like text
    if _ATTR.sub("", attrs).strip() or not href:
        raise HtmlError(f"Bad <a> attributes at byte offset {offset}")
    if not href.lower().startswith(("http://", "https://", "tg://")):
        raise HtmlError(f"Wrong HTTP URL at byte offset {offset}")


class ApiError(Exception):
    """An error answer: HTTP status = error_code, and Telegram's description."""

    def __init__(self, code: int, description: str) -> None:
        self.code = code
        self.description = description
        super().__init__(description)


def check_text(params: dict[str, Any], name: str) -> str:
    """The text Telegram would show for params[name] ("text" or "caption"), or its error."""
    raw = params.get(name)
    if not isinstance(raw, str) or not raw.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    text = raw
    if str(params.get("parse_mode", "")).upper() == "HTML":
        try:
            text = visible_text(raw)
        except HtmlError as exc:
            raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
    limit = CAPTION_LIMIT if name == "caption" else MESSAGE_LIMIT
    if len(text.encode("utf-16-le")) // 2 > limit:
        what = "message caption" if name == "caption" else "message"
        raise ApiError(400, f"Bad Request: {what} is too long")
    return text


def is_group(chat_id: str) -> bool:
    """Groups, supergroups and channels have negative ids or are addressed by @username."""
    return chat_id.startswith(("-", "@"))


@dataclass(frozen=True)
class Limits:
    """(messages, window seconds) overall, per private chat, per group or channel."""

    overall: tuple[int, float] = (30, 1.0)
    private: tuple[int, float] = (1, 1.0)
    group: tuple[int, float] = (20, 60.0)


class RateLimiter:
    """Sliding windows of accepted messages; not thread-safe (the server holds its lock)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._windows: dict[str, deque[float]] = defaultdict(deque)

    def admit(self, chat_id: str, now: float) -> int | None:
        """None when one more message to `chat_id` fits (and counts it), else the whole
        seconds to wait, as Telegram's retry_after."""
        per_chat = self.limits.group if is_group(chat_id) else self.limits.private
        checks = [("*", self.limits.overall), (chat_id, per_chat)]
        waits = []
        for key, (count, window) in checks:
            times = self._windows[key]
            while times and times[0] <= now - window:
                times.popleft()
            if len(times) >= count:
                waits.append(max(1, math.ceil(times[0] + window - now)))
        if waits:
            return max(waits)
        for key, _ in checks:
            self._windows[key].append(now)
        return None
