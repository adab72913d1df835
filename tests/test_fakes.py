"""The fakes are test infrastructure others rely on: check they behave like what they stand for."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fakes.feed_server import FeedServer
from fakes.telegram_api import TOKEN, FakeTelegram, Limits
from telegram import Bot, Update
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

CHANNEL = "-1001234567890"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:  # keep-alive connections keep these tests fast
        yield client


def _send(
    http: httpx.Client, fake: FakeTelegram, chat_id: str, text: str = "hi", **extra: Any
) -> httpx.Response:
    url = f"{fake.base_url}{fake.token}/sendMessage"
    return http.post(url, json={"chat_id": chat_id, "text": text, **extra})


def _retry_after(response: httpx.Response) -> int:
    assert response.status_code == 429
    body = response.json()
    assert body["description"].startswith("Too Many Requests: retry after")
    return int(body["parameters"]["retry_after"])


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limited(clock: Clock) -> Iterator[FakeTelegram]:
    with FakeTelegram(enforce_limits=True, clock=clock) as fake:
        yield fake


def test_private_chats_get_one_message_per_second(
    http: httpx.Client, limited: FakeTelegram, clock: Clock
) -> None:
    assert _send(http, limited, "42").status_code == 200
    assert _retry_after(_send(http, limited, "42")) == 1
    assert _send(http, limited, "43").status_code == 200  # another chat is not held back

    clock.now += 1.0
    assert _send(http, limited, "42").status_code == 200
    assert limited.throttled == 1
    assert [c.message_id for c in limited.sent_messages("42")] == [1, 2]


@pytest.mark.parametrize("chat_id", [CHANNEL, "-4012345", "@postwatch_news"])
def test_groups_and_channels_get_twenty_messages_per_minute(
    http: httpx.Client, limited: FakeTelegram, clock: Clock, chat_id: str
) -> None:
    for _ in range(20):
        assert _send(http, limited, chat_id).status_code == 200
        clock.now += 0.5
    assert _retry_after(_send(http, limited, chat_id)) == 50

    clock.now += 50
    assert _send(http, limited, chat_id).status_code == 200
    assert limited.throttled == 1


def test_overall_limit_spans_chats(http: httpx.Client, clock: Clock) -> None:
    with FakeTelegram(enforce_limits=True, limits=Limits(overall=(3, 1.0)), clock=clock) as fake:
        assert [_send(http, fake, str(chat)).status_code for chat in (1, 2, 3, 4)] == [200] * 3 + [
            429
        ]
        assert fake.throttled == 1


def test_limits_are_opt_in(http: httpx.Client, fake_telegram: FakeTelegram) -> None:
    assert {_send(http, fake_telegram, "42").status_code for _ in range(5)} == {200}


def test_wrong_token_is_unauthorized_like_telegram(fake_telegram: FakeTelegram) -> None:
    response = httpx.post(f"{fake_telegram.base_url}123:wrong/getMe")

    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert fake_telegram.calls() == []


def test_form_and_json_bodies_are_read_alike(
    http: httpx.Client, fake_telegram: FakeTelegram
) -> None:
    url = f"{fake_telegram.base_url}{TOKEN}/sendMessage"
    http.post(url, data={"chat_id": "42", "text": "form", "link_preview_options": '{"x": 1}'})
    http.post(url, json={"chat_id": 42, "text": "json"})
    _send(http, fake_telegram, "7")

    sent = fake_telegram.sent_messages("42")
    assert [(c.text, c.message_id) for c in sent] == [("form", 1), ("json", 2)]
    assert sent[0].params["link_preview_options"] == {"x": 1}
    assert fake_telegram.sent_messages("7")[0].message_id == 1  # ids count per chat


def test_html_is_checked_like_telegram(http: httpx.Client, fake_telegram: FakeTelegram) -> None:
    ok = _send(http, fake_telegram, "42", "<b>a &amp; b</b> <a href='x'>", parse_mode="HTML")
    assert ok.status_code == 400
    assert ok.json()["description"].startswith("Bad Request: can't parse entities")
    unclosed = _send(http, fake_telegram, "42", "<b>bold", parse_mode="HTML")
    assert "can't parse entities" in unclosed.json()["description"]
    entity = _send(http, fake_telegram, "42", "&nbsp;", parse_mode="HTML")
    assert "Unsupported HTML entity" in entity.json()["description"]
    # The limit counts visible text: markup is free, an astral character costs two units.
    fits = "<b>" + "x" * 4094 + "</b>😀"
    assert _send(http, fake_telegram, "42", fits, parse_mode="HTML").status_code == 200
    long = _send(http, fake_telegram, "42", "x" * 4095 + "😀")
    assert long.json()["description"] == "Bad Request: message is too long"


async def test_answers_parse_in_python_telegram_bot(fake_telegram: FakeTelegram) -> None:
    async with Bot(fake_telegram.token, base_url=fake_telegram.base_url) as bot:
        assert bot.username == "postwatch_fake_bot"  # initialize() called getMe
        chat = await bot.get_chat("@postwatch_news")
        assert (chat.type, chat.username) == ("channel", "postwatch_news")
        sent = await bot.send_message(chat_id=42, text="hello")
        assert (sent.message_id, sent.chat.id, sent.text) == (1, 42, "hello")
        photo = await bot.send_photo(CHANNEL, "https://example.org/p.jpg", caption="c")
        assert (photo.message_id, photo.caption, len(photo.photo)) == (1, "c", 1)
        edited = await bot.edit_message_text("edited", chat_id=42, message_id=sent.message_id)
        assert not isinstance(edited, bool)
        assert edited.text == "edited"
        assert await bot.get_updates() == ()
        assert await bot.delete_webhook() is True


# --- feed server ---------------------------------------------------------------------------


def test_conditional_get_answers_304_until_the_body_changes(feed_server: FeedServer) -> None:
    feed_server.route("/feed.xml", "<rss>v1</rss>")
    url = feed_server.url("/feed.xml")

    first = httpx.get(url)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert (first.status_code, first.text) == (200, "<rss>v1</rss>")
    assert first.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert httpx.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert httpx.get(url, headers={"If-Modified-Since": modified}).status_code == 304

    feed_server.set_body("/feed.xml", "<rss>v2</rss>")
    second = httpx.get(url, headers={"If-None-Match": etag, "If-Modified-Since": modified})
    assert (second.status_code, second.text) == (200, "<rss>v2</rss>")
    assert second.headers["etag"] != etag
    assert second.headers["last-modified"] != modified
    assert feed_server.hits("/feed.xml") == 4
    assert feed_server.requests("/feed.xml")[1]["if-none-match"] == etag


def test_validators_can_be_fixed_or_left_out(feed_server: FeedServer) -> None:
    feed_server.route(
        "/plain", b"{}", content_type="application/json", etag=False, last_modified=False
    )
    feed_server.route("/fixed", b"x", etag='W/"v1"', last_modified=False)

    plain = httpx.get(feed_server.url("/plain"), headers={"If-None-Match": "*"})
    assert plain.status_code == 200
    assert "etag" not in plain.headers
    assert "last-modified" not in plain.headers
    fixed = httpx.get(feed_server.url("/fixed"), headers={"If-None-Match": '"v1"'})
    assert fixed.status_code == 304  # weak comparison


def test_error_statuses_carry_retry_after(feed_server: FeedServer) -> None:
    feed_server.route("/busy", "slow down", status=429, retry_after="120")
    response = httpx.get(feed_server.url("/busy"))
    assert (response.status_code, response.headers["retry-after"]) == (429, "120")
    assert httpx.get(feed_server.url("/missing")).status_code == 404
    assert feed_server.hits("/missing") == 1


def test_stalled_route_never_answers(feed_server: FeedServer) -> None:
    feed_server.stall("/stall")
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(feed_server.url("/stall"), timeout=0.2)


@pytest.mark.parametrize("declare_length", [False, True])
def test_oversized_route_streams_the_size_asked(
    feed_server: FeedServer, declare_length: bool
) -> None:
    feed_server.oversized("/big", 300_000, declare_length=declare_length)
    response = httpx.get(feed_server.url("/big"))
    assert len(response.content) == 300_000
    assert ("content-length" in response.headers) is declare_length


async def test_a_real_application_polls_the_fake_for_commands_and_buttons(
    fake_telegram: FakeTelegram,
) -> None:
    """The seam the chat commands are tested through: python-telegram-bot's own Application
    with getUpdates against the fake, commands and button presses as Telegram sends them."""
    seen: list[tuple[str, int]] = []
    done = asyncio.Event()

    async def command(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_user is not None and update.effective_message is not None
        seen.append((update.effective_message.text or "", update.effective_user.id))
        await update.effective_message.reply_text("ok")

    async def button(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer("pressed")
        seen.append((f"button:{update.callback_query.data}", update.callback_query.from_user.id))
        done.set()

    application = (
        ApplicationBuilder().token(fake_telegram.token).base_url(fake_telegram.base_url).build()
    )
    application.add_handler(CommandHandler("watch", command))
    application.add_handler(CallbackQueryHandler(button))
    fake_telegram.push_message(424242, "/watch ceasefire truce")
    fake_telegram.push_button(424242, "pause:wire")
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.01, timeout=0)
        await asyncio.wait_for(done.wait(), timeout=20)
        await application.updater.stop()
        await application.stop()
    assert seen == [("/watch ceasefire truce", 424242), ("button:pause:wire", 424242)]
    assert [c.text for c in fake_telegram.sent_messages("424242")] == ["ok"]
    assert [c.method for c in fake_telegram.calls("answerCallbackQuery")] == ["answerCallbackQuery"]
