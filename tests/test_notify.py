"""Notifiers: the real python-telegram-bot over HTTP against the fake Bot API server."""

from __future__ import annotations

import io
import logging
import socket
import traceback
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fakes.telegram_api import CANT_PARSE, CHAT_NOT_FOUND, KICKED, FakeTelegram

from bot.config.settings import Secret
from bot.deliver.render import render_alert, render_plain
from bot.errors import (
    ChatMigratedError,
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from bot.model import Alert, Post, SentMessage
from bot.notify.base import ConsoleNotifier
from bot.notify.telegram import TelegramNotifier

CHANNEL = "-1001234567890"


@pytest.fixture
async def notifier(fake_telegram: FakeTelegram) -> AsyncIterator[TelegramNotifier]:
    sender = TelegramNotifier(Secret(fake_telegram.token), fake_telegram.base_url)
    yield sender
    await sender.aclose()


def _alert(text: str = "Ceasefire <talks> resume & continue 🇺🇦") -> Alert:
    post = Post(
        source_id="whitehouse",
        post_id="1",
        text=text,
        url="https://example.org/a?x=1&y=2",
        author="Press Office",
        title="Statement",
        published_at=datetime(2026, 3, 18, 14, 5, tzinfo=UTC),
    )
    return Alert(1, CHANNEL, post, "rss", ("Ukraine ceasefire",), ("ceasefire",))


async def test_send_delivers_html_and_returns_increasing_message_ids(
    notifier: TelegramNotifier, fake_telegram: FakeTelegram
) -> None:
    html = render_alert(_alert())
    first = await notifier.send(CHANNEL, html, plain="unused")
    second = await notifier.send(CHANNEL, html, plain="unused", disable_preview=True)

    assert first == SentMessage(message_id=1, chat_id=CHANNEL)
    assert second == SentMessage(message_id=2, chat_id=CHANNEL)
    calls = fake_telegram.sent_messages(CHANNEL)
    assert [c.params["parse_mode"] for c in calls] == ["HTML", "HTML"]
    assert calls[0].params["text"] == html
    assert "link_preview_options" not in calls[0].params
    assert calls[1].params["link_preview_options"] == {"is_disabled": True}


async def test_channel_username_is_sent_as_is(
    notifier: TelegramNotifier, fake_telegram: FakeTelegram
) -> None:
    sent = await notifier.send("@postwatch_news", "<b>hi</b>", plain="hi")

    assert sent == SentMessage(message_id=1, chat_id="@postwatch_news")
    assert fake_telegram.sent_messages("@postwatch_news")[0].text == "<b>hi</b>"


async def test_flood_control_is_transient_with_telegrams_retry_after(
    notifier: TelegramNotifier, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.fail_next("sendMessage", error_code=429, retry_after=1)

    with pytest.raises(TransientDeliveryError) as caught:
        await notifier.send(CHANNEL, "hi", plain="hi")

    assert caught.value.retry_after == 1.0
    assert (await notifier.send(CHANNEL, "hi", plain="hi")).message_id == 1


@pytest.mark.parametrize("description", [KICKED, CHAT_NOT_FOUND])
async def test_kicked_and_missing_chats_fail_permanently(
    notifier: TelegramNotifier, fake_telegram: FakeTelegram, description: str
) -> None:
    code = 403 if description == KICKED else 400
    fake_telegram.fail_next("sendMessage", error_code=code, description=description)

    with pytest.raises(PermanentDeliveryError) as caught:
        await notifier.send(CHANNEL, "hi", plain="hi")

    assert not isinstance(caught.value, ChatMigratedError)
    assert description.split(": ", 1)[1] in str(caught.value).lower()


async def test_unparsable_html_is_resent_once_as_plain_text(
    notifier: TelegramNotifier, fake_telegram: FakeTelegram
) -> None:
    sent = await notifier.send(CHANNEL, "<blink>broken</b>", plain="broken, plainly")

    assert sent.message_id == 1
    first, second = fake_telegram.calls("sendMessage")
    assert (first.status, first.params["parse_mode"]) == (400, "HTML")
    assert second.status == 200
    assert "parse_mode" not in second.params
    assert second.text == "broken, plainly"


async def test_plain_resend_failing_too_is_translated(
    notifier: TelegramNotifier, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.fail_next("sendMessage", error_code=400, description=CANT_PARSE)
    fake_telegram.fail_next("sendMessage", error_code=403)

    with pytest.raises(PermanentDeliveryError):
        await notifier.send(CHANNEL, "<b>fine</b>", plain="fine")
    assert len(fake_telegram.calls("sendMessage")) == 2


async def test_migrated_group_carries_the_new_chat_id(
    notifier: TelegramNotifier, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.fail_next("sendMessage", migrate_to_chat_id=-1009876543210)

    with pytest.raises(ChatMigratedError) as caught:
        await notifier.send("-4012345", "hi", plain="hi")

    assert isinstance(caught.value, PermanentDeliveryError)
    assert caught.value.new_chat_id == -1009876543210


async def test_dropped_connection_is_transient(
    notifier: TelegramNotifier, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.drop_next("sendMessage")

    with pytest.raises(TransientDeliveryError) as caught:
        await notifier.send(CHANNEL, "hi", plain="hi")

    assert caught.value.retry_after is None


async def test_slow_answer_times_out_as_transient(fake_telegram: FakeTelegram) -> None:
    fake_telegram.delay_next("sendMessage", 2.0)
    sender = TelegramNotifier(Secret(fake_telegram.token), fake_telegram.base_url, read_timeout=0.1)
    try:
        with pytest.raises(TransientDeliveryError, match="TimedOut"):
            await sender.send(CHANNEL, "hi", plain="hi")
    finally:
        await sender.aclose()


async def test_server_errors_are_transient(
    notifier: TelegramNotifier, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.fail_next("sendMessage", error_code=502)

    with pytest.raises(TransientDeliveryError):
        await notifier.send(CHANNEL, "hi", plain="hi")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _program(method: str, *args: Any, **kwargs: Any) -> Callable[[FakeTelegram], None]:
    return lambda fake: getattr(fake, method)("sendMessage", *args, **kwargs)


# Every translation branch; each programs the fake and may swap the token or the URL.
LEAK_CASES: dict[str, Callable[[FakeTelegram], None]] = {
    "flood": _program("fail_next", 1, 429, retry_after=0),
    "kicked": _program("fail_next", 1, 403),
    "chat not found": _program("fail_next", 1, 400, description=CHAT_NOT_FOUND),
    "can't parse twice": _program("fail_next", 2, 400, description=CANT_PARSE),
    "migrated": _program("fail_next", migrate_to_chat_id=-100777),
    "dropped": _program("drop_next"),
    "server error": _program("fail_next", 1, 500),
    "wrong token": lambda fake: None,
    "refused": lambda fake: None,
}


@pytest.mark.parametrize("case", LEAK_CASES)
async def test_the_token_appears_in_no_error_or_log(
    fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    caplog.set_level(logging.WARNING, logger="bot")
    LEAK_CASES[case](fake_telegram)
    token, base_url = fake_telegram.token, fake_telegram.base_url
    if case == "wrong token":
        token += "0"
    if case == "refused":
        base_url = f"http://127.0.0.1:{_free_port()}/bot"
    sender = TelegramNotifier(Secret(token), base_url)
    try:
        with pytest.raises(DeliveryError) as caught:
            await sender.send(CHANNEL, "<b>hi</b>", plain="hi")
    finally:
        await sender.aclose()

    secret_part = token.split(":")[1]  # the part after the bot id is what grants access
    rendered = "".join(traceback.format_exception(caught.value)) + repr(caught.value)
    assert secret_part not in rendered
    assert secret_part not in repr(sender)
    assert secret_part not in caplog.text
    if case == "wrong token":
        assert isinstance(caught.value, TransientDeliveryError)
        assert "rejected the bot token" in str(caught.value)


async def test_rendered_alert_is_accepted_without_fallback(
    notifier: TelegramNotifier, fake_telegram: FakeTelegram
) -> None:
    alert = _alert("x <y> & z " * 1000)  # escaped, trimmed, and still valid Telegram HTML
    await notifier.send(CHANNEL, render_alert(alert), plain=render_plain(alert))

    (call,) = fake_telegram.calls("sendMessage")
    assert call.status == 200
    assert call.params["parse_mode"] == "HTML"


async def test_console_notifier_prints_a_readable_block() -> None:
    stream = io.StringIO()
    console = ConsoleNotifier(stream)
    alert = _alert()

    sent = await console.send(CHANNEL, render_alert(alert), plain=render_plain(alert))
    await console.aclose()

    assert sent == SentMessage(message_id=None, chat_id=CHANNEL)
    lines = stream.getvalue().rstrip("\n").splitlines()
    assert lines[0].startswith(f"--- alert for {CHANNEL} ---")
    assert "🔔 Ukraine ceasefire" in lines
    assert "Ceasefire <talks> resume & continue 🇺🇦" in lines
    assert lines[-1].endswith("https://example.org/a?x=1&y=2")
