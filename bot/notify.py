"""Notifiers: where rendered alerts go. Telegram through python-telegram-bot, or the console.

Telegram errors are translated here, at the boundary, into bot.errors:

    RetryAfter (429)                   → TransientDeliveryError(retry_after=seconds)
    Forbidden (403: kicked, blocked)   → PermanentDeliveryError
    ChatMigrated (400 + migrate_to)    → ChatMigratedError(new_chat_id), a PermanentDeliveryError
    BadRequest "can't parse entities"  → resent once as plain text, then as below
    BadRequest (chat not found, ...)   → PermanentDeliveryError: the same request fails again
    InvalidToken (401/404)             → TransientDeliveryError: alerts wait for a fixed token
    TimedOut, NetworkError, other      → TransientDeliveryError

BadRequest and TimedOut are subclasses of NetworkError, so the order of the checks matters.
The bot token is in every request URL and in some library messages: it is scrubbed from every
error we raise, and the library's exception is not chained (its text may hold the token).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any, Protocol, TextIO
from urllib.parse import quote, urlsplit

from telegram import Bot, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    TelegramError,
)
from telegram.request import HTTPXRequest

from bot.config import Secret
from bot.errors import (
    ChatMigratedError,
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from bot.model import SentMessage

__all__ = ["ConsoleNotifier", "Notifier", "TelegramNotifier"]

log = logging.getLogger(__name__)

_NUMERIC_CHAT_ID = re.compile(r"-?\d+")
_ENTITY_ERROR = "can't parse entities"


class Notifier(Protocol):
    async def send(
        self, chat_id: str, html: str, *, plain: str, disable_preview: bool = False
    ) -> SentMessage:
        """Deliver one alert; raise a DeliveryError subclass when it was not delivered."""
        ...

    async def aclose(self) -> None: ...


class _FloodWait(TelegramError):
    """A 429 with parameters.retry_after, raised before python-telegram-bot builds RetryAfter.

    PTB 22 constructs RetryAfter through a deprecated int accessor that warns on every 429
    (PTBDeprecationWarning, v22.2) unless PTB_TIMEDELTA is set process-wide; reading the answer
    here keeps that global switch out of our hands and the seconds a plain float.
    """

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"Flood control exceeded. Retry in {seconds:g} seconds")


class _Request(HTTPXRequest):
    # do_request is BaseRequest's documented extension point; TelegramErrors raised here pass
    # through PTB's response handling unchanged.
    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(*args, **kwargs)
        if code == 429:
            seconds = _retry_after(payload)
            if seconds is not None:
                raise _FloodWait(seconds)
        return code, payload


def _retry_after(payload: bytes) -> float | None:
    """parameters.retry_after of a Bot API error answer (https://core.telegram.org/bots/api#responseparameters)."""
    try:
        answer = json.loads(payload)
        value = answer["parameters"]["retry_after"]
    except (ValueError, KeyError, TypeError):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


class TelegramNotifier:
    """Sends alerts with the Bot API (parse_mode HTML), falling back to plain text once.

    No `Bot.initialize()`: it only caches getMe, which sending does not need, and its
    InvalidToken message quotes the token. The HTTP client is built eagerly by HTTPXRequest.
    """

    def __init__(
        self,
        token: Secret,
        base_url: str = "https://api.telegram.org/bot",
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        write_timeout: float = 10.0,
        pool_timeout: float = 5.0,
        connection_pool_size: int = 8,
    ) -> None:
        self._token = token
        self._host = urlsplit(base_url).netloc
        self._request = _Request(
            connection_pool_size=connection_pool_size,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            pool_timeout=pool_timeout,
        )
        # One request object for both slots: the notifier never calls getUpdates.
        self._bot = Bot(
            token.reveal(),
            base_url=base_url,
            request=self._request,
            get_updates_request=self._request,
        )

    def __repr__(self) -> str:
        return f"TelegramNotifier({self._host!r})"

    async def send(
        self, chat_id: str, html: str, *, plain: str, disable_preview: bool = False
    ) -> SentMessage:
        target = _chat_target(chat_id)
        try:
            try:
                message = await self._send(target, html, ParseMode.HTML, disable_preview)
            except BadRequest as exc:
                if _ENTITY_ERROR not in exc.message.lower():
                    raise
                # Our renderer escapes everything, so this is a bug or a Telegram quirk: the
                # alert still goes out, unformatted, rather than failing.
                log.warning(
                    "Telegram could not parse the HTML for chat %s (%s); sending plain text",
                    chat_id,
                    self._scrub(exc.message),
                )
                message = await self._send(target, plain, None, disable_preview)
        except TelegramError as exc:
            raise self._translate(exc) from None
        return SentMessage(message_id=message.message_id, chat_id=chat_id)

    async def identity(self) -> str:
        """The bot's @username (getMe): a cheap check that the token works."""
        try:
            user = await self._bot.get_me()
        except TelegramError as exc:
            raise self._translate(exc) from None
        return f"@{user.username}"

    async def aclose(self) -> None:
        await self._request.shutdown()

    async def _send(
        self, chat_id: int | str, text: str, parse_mode: str | None, disable_preview: bool
    ) -> Message:
        return await self._bot.send_message(
            chat_id=chat_id,
            text=text,
            parse_mode=parse_mode,
            link_preview_options=LinkPreviewOptions(is_disabled=True) if disable_preview else None,
        )

    def _scrub(self, text: str) -> str:
        token = self._token.reveal()
        if not token:
            return text
        for form in {token, quote(token, safe="")}:
            text = text.replace(form, "<token>")
        return text

    def _translate(self, exc: TelegramError) -> DeliveryError:
        detail = self._scrub(exc.message)
        if isinstance(exc, _FloodWait):
            return TransientDeliveryError(
                f"Telegram flood control: retry after {exc.seconds:g}s", retry_after=exc.seconds
            )
        if isinstance(exc, ChatMigrated):
            return ChatMigratedError(
                f"the group became supergroup {exc.new_chat_id}", new_chat_id=exc.new_chat_id
            )
        if isinstance(exc, InvalidToken):
            return TransientDeliveryError("Telegram rejected the bot token (telegram.token)")
        # Before NetworkError, which BadRequest subclasses: 403 (kicked, blocked) and 400 (chat
        # not found, message too long, ...) fail the same way on every retry.
        if isinstance(exc, Forbidden | BadRequest):
            return PermanentDeliveryError(f"Telegram refused the message: {detail}")
        # TimedOut, NetworkError (5xx, refused, dropped connection) and anything else. After a
        # timeout the message may have gone out: a retry can duplicate it, which beats losing it.
        return TransientDeliveryError(
            f"{type(exc).__name__} talking to Telegram at {self._host}: {detail}"
        )


def _chat_target(chat_id: str) -> int | str:
    """Numeric ids go as integers; @channelusername stays a string."""
    return int(chat_id) if _NUMERIC_CHAT_ID.fullmatch(chat_id) else chat_id


class ConsoleNotifier:
    """Prints each alert's plain text: the notifier when no token is configured, and the demo."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream  # None: sys.stdout at send time (pytest's capsys swaps it)

    async def send(
        self, chat_id: str, html: str, *, plain: str, disable_preview: bool = False
    ) -> SentMessage:
        stream = self._stream or sys.stdout
        stream.write(f"{f'--- alert for {chat_id} ':-<72}\n{plain}\n\n")
        stream.flush()
        return SentMessage(message_id=None, chat_id=chat_id)

    async def aclose(self) -> None:
        return None
