"""python-telegram-bot errors → bot.errors, and the 429 answer read before PTB sees it.

What a failure means for delivery is decided here, once:

- 429 carries Telegram's retry_after; the caller waits exactly that long.
- 403, and 400s that say the chat itself is unusable (not found, no rights, no such forum
  topic), will fail every message to that chat: ChatUnavailableError.
- Other 400s concern this one message: PermanentDeliveryError.
- A timeout or dropped connection *after the request was sent* may mean Telegram posted the
  message and its answer was lost: AmbiguousDeliveryError. Only a connect or pool timeout and a
  refused connection certainly sent nothing (python-telegram-bot says so of its pool timeout).
- A 5xx answer is Telegram saying it did not take the request: a plain retry.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from bot.errors import (
    AmbiguousDeliveryError,
    ChatMigratedError,
    ChatUnavailableError,
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)

# 400 descriptions that are about the chat, not the message (Bot API wording, lower case).
_CHAT_LEVEL = (
    "chat not found",
    "not enough rights",
    "need administrator rights",
    "have no rights to send",
    "chat_write_forbidden",
    "bot is not a member",
    "message thread not found",
    "topic_closed",
    "group chat was deactivated",
)
# The request never reached Telegram: safe to send again.
_UNSENT_CAUSES = (httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ConnectError)
# The request (or part of it) went out and no answer came back.
_AMBIGUOUS_CAUSES = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)


class FloodWait(TelegramError):
    """A 429 with parameters.retry_after, raised before python-telegram-bot builds RetryAfter.

    PTB 22 constructs RetryAfter through a deprecated int accessor that warns on every 429
    (PTBDeprecationWarning, v22.2) unless PTB_TIMEDELTA is set process-wide; reading the answer
    here keeps that global switch out of our hands and the seconds a plain float.
    """

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"Flood control exceeded. Retry in {seconds:g} seconds")


class FloodAwareRequest(HTTPXRequest):
    # do_request is BaseRequest's documented extension point; TelegramErrors raised here pass
    # through PTB's response handling unchanged.
    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(*args, **kwargs)
        if code == 429:
            seconds = retry_after(payload)
            if seconds is not None:
                raise FloodWait(seconds)
        return code, payload


def retry_after(payload: bytes) -> float | None:
    """parameters.retry_after of a Bot API error answer (https://core.telegram.org/bots/api#responseparameters)."""
    try:
        answer = json.loads(payload)
        value = answer["parameters"]["retry_after"]
    except (ValueError, KeyError, TypeError):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


def is_chat_level(description: str) -> bool:
    lowered = description.lower()
    return any(phrase in lowered for phrase in _CHAT_LEVEL)


def is_photo_refusal(description: str) -> bool:
    """A 400 to sendPhoto that the same alert as text would not get."""
    lowered = description.lower()
    return not is_chat_level(lowered) and "can't parse entities" not in lowered


def translate(exc: TelegramError, detail: str, host: str) -> DeliveryError:
    """Our error for a PTB error; `detail` is its message with the token scrubbed."""
    if isinstance(exc, FloodWait):
        return TransientDeliveryError(
            f"Telegram flood control: retry after {exc.seconds:g}s", retry_after=exc.seconds
        )
    if isinstance(exc, ChatMigrated):
        return ChatMigratedError(
            f"the group became supergroup {exc.new_chat_id}", new_chat_id=exc.new_chat_id
        )
    if isinstance(exc, InvalidToken):
        return TransientDeliveryError("Telegram rejected the bot token (telegram.token)")
    # Before NetworkError, which BadRequest subclasses.
    if isinstance(exc, Forbidden) or (isinstance(exc, BadRequest) and is_chat_level(detail)):
        return ChatUnavailableError(f"Telegram refused the chat: {detail}")
    if isinstance(exc, BadRequest):
        return PermanentDeliveryError(f"Telegram refused the message: {detail}")
    return _network(exc, f"{type(exc).__name__} talking to Telegram at {host}: {detail}")


def _network(exc: TelegramError, what: str) -> TransientDeliveryError:
    cause = exc.__cause__
    if isinstance(cause, _UNSENT_CAUSES):
        return TransientDeliveryError(f"{what} (not sent)")
    if isinstance(cause, _AMBIGUOUS_CAUSES) or (isinstance(exc, TimedOut) and cause is None):
        return AmbiguousDeliveryError(f"{what} (may have been posted)")
    # A 5xx answer, or a failure before anything was sent.
    return TransientDeliveryError(what)
