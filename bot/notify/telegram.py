"""Notifiers: where rendered alerts go. Telegram through python-telegram-bot, or the console.

Telegram errors are translated here, at the boundary, into bot.errors:

    RetryAfter (429)                   → TransientDeliveryError(retry_after=seconds)
    Forbidden (403: kicked, blocked)   → ChatUnavailableError: the chat takes nothing from us
    ChatMigrated (400 + migrate_to)    → ChatMigratedError(new_chat_id)
    BadRequest "can't parse entities"  → resent once as plain text, then as below
    BadRequest chat not found, no rights, thread not found → ChatUnavailableError
    BadRequest (anything else)         → PermanentDeliveryError: this message, as it is, fails
    InvalidToken (401/404)             → TransientDeliveryError: alerts wait for a fixed token
    TimedOut on connect or pool        → TransientDeliveryError: the request never left
    TimedOut on read or write, connection dropped after sending
                                       → AmbiguousDeliveryError: it may have been posted
    NetworkError (refused, 5xx answer) → TransientDeliveryError

BadRequest and TimedOut are subclasses of NetworkError, so the order of the checks matters.
Which timeout it was is read from the httpx exception python-telegram-bot chains as the cause.
The bot token is in every request URL and in some library messages: it is scrubbed from every
error we raise, and the library's exception is not chained (its text may hold the token).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import quote, urlsplit

from telegram import Bot, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.config.settings import Secret
from bot.model import SentMessage
from bot.notify.base import NO_OPTIONS, Photo, SendOptions
from bot.notify.errors import BotApiRequest, is_photo_refusal, translate

log = logging.getLogger(__name__)

_NUMERIC_CHAT_ID = re.compile(r"-?\d+")
_ENTITY_ERROR = "can't parse entities"
_NOT_MODIFIED = "message is not modified"
T = TypeVar("T")
# Telegram fetches a photo URL itself before answering: give it longer than a text message.
PHOTO_READ_TIMEOUT = 30.0


class TelegramNotifier:
    """Sends alerts with the Bot API (parse_mode HTML), falling back to plain text once.

    No `Bot.initialize()`: it only caches getMe, which sending does not need, and its
    InvalidToken message quotes the token. The HTTP client is built eagerly by HTTPXRequest.
    postwatch never calls getUpdates (it reads no chat commands), so it never meets the 409
    Conflict a second poller of the same token would get: the delivery lease (bot.deliver.holder) is
    what keeps two running copies from both sending.
    """

    paced = True

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
        self._request = BotApiRequest(
            connection_pool_size=connection_pool_size,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            pool_timeout=pool_timeout,
        )
        self._photo_read_timeout = max(read_timeout, PHOTO_READ_TIMEOUT)
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
        self,
        chat_id: str,
        html: str,
        *,
        plain: str,
        options: SendOptions = NO_OPTIONS,
        photo: Photo | None = None,
        disable_preview: bool = False,
    ) -> SentMessage:
        if disable_preview:
            options = SendOptions(True, options.silent, options.thread_id)
        target = _chat_target(chat_id)
        try:
            if photo is not None:
                try:
                    message = await self._with_plain_fallback(
                        chat_id,
                        lambda text, mode: self._send_photo(target, photo.url, text, mode, options),
                        photo.caption_html,
                        photo.caption_plain,
                    )
                    return _sent(chat_id, message, photo=True)
                except BadRequest as exc:
                    if not is_photo_refusal(exc.message):
                        raise
                    # A 400 means nothing was posted: the alert goes as text instead.
                    log.warning(
                        "Telegram refused the image for chat %s (%s); sending text",
                        chat_id,
                        self._scrub(exc.message),
                    )
            message = await self._with_plain_fallback(
                chat_id,
                lambda text, mode: self._send_text(target, text, mode, options),
                html,
                plain,
            )
        except TelegramError as exc:
            raise translate(exc, self._scrub(exc.message), self._host) from None
        return _sent(chat_id, message)

    async def edit(
        self,
        chat_id: str,
        message_id: int,
        html: str,
        plain: str,
        *,
        caption: bool = False,
        options: SendOptions = NO_OPTIONS,
    ) -> None:
        target = _chat_target(chat_id)

        async def edit(text: str, mode: str | None) -> object:
            if caption:
                return await self._bot.edit_message_caption(
                    chat_id=target, message_id=message_id, caption=text, parse_mode=mode
                )
            return await self._bot.edit_message_text(
                text,
                chat_id=target,
                message_id=message_id,
                parse_mode=mode,
                link_preview_options=_preview(options),
            )

        try:
            await self._with_plain_fallback(chat_id, edit, html, plain)
        except BadRequest as exc:
            if _NOT_MODIFIED in exc.message.lower():
                return  # already shows this text: the edit is done
            raise translate(exc, self._scrub(exc.message), self._host) from None
        except TelegramError as exc:
            raise translate(exc, self._scrub(exc.message), self._host) from None

    async def identity(self) -> str:
        """The bot's @username (getMe): a cheap check that the token works."""
        try:
            user = await self._bot.get_me()
        except TelegramError as exc:
            raise translate(exc, self._scrub(exc.message), self._host) from None
        return f"@{user.username}"

    async def aclose(self) -> None:
        await self._request.shutdown()

    async def _with_plain_fallback(
        self,
        chat_id: str,
        call: Callable[[str, str | None], Awaitable[T]],
        html: str,
        plain: str,
    ) -> T:
        try:
            return await call(html, ParseMode.HTML)
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
            return await call(plain, None)

    async def _send_text(
        self, chat_id: int | str, text: str, parse_mode: str | None, options: SendOptions
    ) -> Message:
        return await self._bot.send_message(
            chat_id=chat_id,
            text=text,
            parse_mode=parse_mode,
            link_preview_options=_preview(options),
            disable_notification=options.silent or None,
            message_thread_id=options.thread_id,
        )

    async def _send_photo(
        self,
        chat_id: int | str,
        url: str,
        caption: str,
        parse_mode: str | None,
        options: SendOptions,
    ) -> Message:
        return await self._bot.send_photo(
            chat_id=chat_id,
            photo=url,
            caption=caption,
            parse_mode=parse_mode,
            disable_notification=options.silent or None,
            message_thread_id=options.thread_id,
            read_timeout=self._photo_read_timeout,
        )

    def _scrub(self, text: str) -> str:
        token = self._token.reveal()
        if not token:
            return text
        for form in {token, quote(token, safe="")}:
            text = text.replace(form, "<token>")
        return text


def _preview(options: SendOptions) -> LinkPreviewOptions | None:
    return LinkPreviewOptions(is_disabled=True) if options.disable_preview else None


def _sent(chat_id: str, message: Message, *, photo: bool = False) -> SentMessage:
    return SentMessage(
        message_id=message.message_id, chat_id=chat_id, chat_number=message.chat.id, photo=photo
    )


def _chat_target(chat_id: str) -> int | str:
    """Numeric ids go as integers; @channelusername stays a string."""
    return int(chat_id) if _NUMERIC_CHAT_ID.fullmatch(chat_id) else chat_id
