"""python-telegram-bot errors → bot.errors, and the 429 answer read before PTB sees it.

What a failure means for delivery is decided here, once:

- 429 carries Telegram's retry_after; the caller waits exactly that long.
- 403, and 400s that say the chat itself is unusable (not found, no rights, no such forum
  topic), will fail every message to that chat: ChatUnavailableError.
- Other 400s concern this one message: PermanentDeliveryError.
- A timeout or dropped connection *after the request was sent* may mean Telegram posted the
  message and its answer was lost: AmbiguousDeliveryError. Only a connect or pool timeout and a
  refused connection certainly sent nothing (python-telegram-bot says so of its pool timeout).
- So may any answer that is not a well-formed Bot API answer (a proxy's 502 page, a 200 that is
  not JSON, a send whose `result` is not a message): something between us and Telegram spoke,
  and Telegram may have posted the message behind it. AmbiguousDeliveryError as well.
- Only Telegram's own refusals (`ok: false` with an `error_code`) are definite; a 5xx of that
  shape is Telegram saying it did not take the request: a plain retry.
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
    TokenRejectedError,
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


class UnreadableAnswer(TelegramError):
    """An answer that is not the Bot API's own, received after the request went out."""

    __slots__ = ()


class BotApiRequest(HTTPXRequest):
    """Reads every answer before python-telegram-bot does: 429s become FloodWait, and answers
    that are not well-formed Bot API answers become UnreadableAnswer (PTB would count a proxy's
    502 page as a plain network error, and a 200 whose result is not a message as our bug)."""

    # do_request is BaseRequest's documented extension point; TelegramErrors raised here pass
    # through PTB's response handling unchanged.
    async def do_request(self, url: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(url, *args, **kwargs)
        problem = answer_problem(url.rsplit("/", 1)[-1], code, payload)
        if problem is not None:
            raise UnreadableAnswer(problem)
        if code == 429:
            seconds = retry_after(payload)
            if seconds is not None:
                raise FloodWait(seconds)
        return code, payload


def answer_problem(method: str, code: int, payload: bytes) -> str | None:
    """Why an answer is not a well-formed Bot API answer to `method`, or None when it is.

    https://core.telegram.org/bots/api#making-requests: always a JSON object with a boolean
    `ok`; on success `result`, on failure an integer `error_code` and a `description`.
    """
    try:
        answer = json.loads(payload)
    except ValueError:  # UnicodeDecodeError included
        return f"HTTP {code} with a body that is not JSON"
    if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
        return f"HTTP {code} with JSON that is not a Bot API answer"
    if answer["ok"] is not (200 <= code <= 299):
        return f"HTTP {code} with ok={str(answer['ok']).lower()}"
    if answer["ok"]:
        wanted = method not in _MESSAGE_METHODS or _is_message(answer.get("result"), method)
        return None if wanted else f"HTTP {code}: {method} answered without the message it sent"
    refusal = _is_int(answer.get("error_code")) and isinstance(answer.get("description"), str)
    return None if refusal else f"HTTP {code} without Telegram's error_code and description"


# Methods whose `result` is the Message they posted or changed.
_MESSAGE_METHODS = frozenset({"sendMessage", "sendPhoto", "editMessageText", "editMessageCaption"})


def _is_message(result: object, method: str) -> bool:
    if result is True and method.startswith("edit"):  # an edited inline message answers True
        return True
    if not isinstance(result, dict) or not _is_int(result.get("message_id")):
        return False
    chat = result.get("chat")
    return isinstance(chat, dict) and _is_int(chat.get("id"))


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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
        return TokenRejectedError(
            f"Telegram at {host} rejected the bot token (telegram.token): check it with @BotFather"
        )
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
    sent = isinstance(cause, _AMBIGUOUS_CAUSES) or isinstance(exc, UnreadableAnswer)
    if sent or (isinstance(exc, TimedOut) and cause is None):
        return AmbiguousDeliveryError(f"{what} (may have been posted)")
    # A 5xx answer, or a failure before anything was sent.
    return TransientDeliveryError(what)
