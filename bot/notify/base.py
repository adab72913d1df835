"""What every notifier is: the Notifier protocol, its per-message options, and the console
notifier (no bot token, and the demo). The Telegram one is in bot.notify."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Protocol, TextIO

from bot.model import SentMessage


@dataclass(frozen=True, slots=True)
class Photo:
    """An image to send by URL, with the alert rendered to fit a caption (1024 units)."""

    url: str
    caption_html: str
    caption_plain: str


@dataclass(frozen=True, slots=True)
class SendOptions:
    """Per-channel sending options from the config."""

    disable_preview: bool = False
    silent: bool = False  # disable_notification
    thread_id: int | None = None  # message_thread_id: a forum topic


NO_OPTIONS = SendOptions()  # the defaults: preview on, sound on, no forum topic


class Notifier(Protocol):
    # Whether Telegram's flood limits apply (bot.deliver.pacing); the console has none.
    paced: bool

    async def send(
        self,
        chat_id: str,
        html: str,
        *,
        plain: str,
        options: SendOptions = NO_OPTIONS,
        photo: Photo | None = None,
    ) -> SentMessage:
        """Deliver one message; raise a DeliveryError subclass when it was not delivered.
        With `photo`, the image goes with its caption; if Telegram refuses the image, `html`
        goes as a text message instead."""
        ...

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
        """Replace a sent message's text (or a photo's caption). DeliveryError on failure."""
        ...

    async def aclose(self) -> None: ...


class ConsoleNotifier:
    """Prints each alert's plain text: the notifier when no token is configured, and the demo."""

    paced = False

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream  # None: sys.stdout at send time (pytest's capsys swaps it)

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
        image = f"[image: {photo.url}]\n" if photo is not None else ""
        self._write(f"{f'--- alert for {chat_id} ':-<72}\n{image}{plain}\n\n")
        return SentMessage(message_id=None, chat_id=chat_id)

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
        self._write(f"{f'--- edited alert {message_id} for {chat_id} ':-<72}\n{plain}\n\n")

    def _write(self, text: str) -> None:
        stream = self._stream or sys.stdout
        stream.write(text)
        stream.flush()

    async def aclose(self) -> None:
        return None
