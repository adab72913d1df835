"""The pure parts of delivery (pacing, digests) and how the notifier tells a certainly-unsent
failure from an ambiguous one, against the fake Bot API server."""

from __future__ import annotations

import itertools
import re
import socket
from datetime import UTC, datetime, timedelta

import pytest
from fakes.telegram_api import FakeTelegram
from fakes.telegram_rules import Limits, RateLimiter
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.classify.watchlist import highlight_spans
from bot.config.settings import Secret
from bot.deliver.digest import first_words, flood_reason, render_digests
from bot.deliver.measure import MESSAGE_LIMIT, entity_count, utf16_len, visible_length
from bot.deliver.pacing import Pacer, Window
from bot.deliver.render import render_alert
from bot.errors import (
    AmbiguousDeliveryError,
    ChatUnavailableError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from bot.model import Alert, Post
from bot.notify.telegram import TelegramNotifier

TELEGRAM = (Window(30, 1.0), Window(1, 1.0), Window(20, 60.0))
NOW = datetime(2026, 3, 18, 14, 0, tzinfo=UTC)


# --- pacing ------------------------------------------------------------------------------------


def test_a_group_gets_its_burst_of_twenty_then_waits_for_the_window() -> None:
    pacer = Pacer(*TELEGRAM)
    sent = []
    now = 0.0
    for _ in range(21):
        now = pacer.ready_at("-100123", now)
        pacer.record("-100123", now)
        sent.append(now)
    gaps = [b - a for a, b in itertools.pairwise(sent[:20])]
    assert all(1.0 <= gap <= 1.02 for gap in gaps)  # one a second in a chat, 1% to spare
    assert sent[20] >= 60.0  # the 21st waits until the first leaves the minute


def test_different_chats_share_only_the_overall_limit() -> None:
    pacer = Pacer(*TELEGRAM)
    for i in range(30):
        chat = f"-100{i}"
        assert pacer.ready_at(chat, 0.0) == 0.0
        pacer.record(chat, 0.0)
    assert pacer.ready_at("-100999", 0.0) >= 1.0  # 31st message in the same second


def test_a_hold_delays_every_chat_exactly_that_long() -> None:
    pacer = Pacer(*TELEGRAM)
    pacer.hold(7.0)
    assert pacer.ready_at("-1001", 0.0) == 7.0
    assert pacer.ready_at("12345", 3.0) == 7.0


def test_unpaced_pacer_only_honours_holds() -> None:
    pacer = Pacer(*TELEGRAM, enabled=False)
    for _ in range(100):
        pacer.record("-1001", 0.0)
    assert pacer.ready_at("-1001", 0.0) == 0.0


@settings(max_examples=60, deadline=None)
@given(
    chats=st.lists(st.sampled_from(["-1001", "-1002", "-1003", "42", "43"]), max_size=300),
    gaps=st.lists(st.floats(0, 2), max_size=300),
)
def test_paced_sends_never_trip_the_servers_sliding_windows(
    chats: list[str], gaps: list[float]
) -> None:
    """Whatever the order of chats and however late the answers, a server enforcing Telegram's
    limits (the fake's own RateLimiter) never has to refuse a paced message."""
    pacer, server = Pacer(*TELEGRAM), RateLimiter(Limits())
    now = 0.0
    for chat, gap in zip(chats, gaps + [0.0] * len(chats), strict=False):
        now = pacer.ready_at(chat, now)
        assert server.admit(chat, now) is None
        now += gap  # the answer arrives a little later
        pacer.record(chat, now)


# --- digests -----------------------------------------------------------------------------------


def alert(n: int, text: str = "Ceasefire talks resume in Geneva today") -> Alert:
    post = Post("wire", f"p{n}", text, url=f"https://wire.example/{n}?a=1&b=2")
    return Alert(n, "-1001", post, "rss", ("Ceasefire <&>",), ())


def test_flood_guard_triggers_on_burst_or_age() -> None:
    hour = timedelta(hours=1)
    assert flood_reason(10, NOW, NOW, burst=10, max_delay=2 * hour) is None
    assert flood_reason(11, NOW, NOW, burst=10, max_delay=2 * hour) == "more than 10 were waiting"
    old = NOW - 3 * hour
    assert flood_reason(2, old, NOW, burst=10, max_delay=2 * hour) == "some waited over 2h"


def test_digest_lists_topic_source_first_words_and_link_escaped() -> None:
    (digest,) = render_digests([alert(1), alert(2)], "more than 10 were waiting")
    assert digest.alert_ids == (1, 2)
    assert digest.html.splitlines()[0] == "🗞 <b>2 alerts · more than 10 were waiting</b>"
    assert (
        "• <b>Ceasefire &lt;&amp;&gt;</b> · <i>wire</i>: Ceasefire talks resume in Geneva today "
        '<a href="https://wire.example/1?a=1&amp;b=2">open</a>'
    ) in digest.html
    assert "• Ceasefire <&> · wire: Ceasefire talks resume in Geneva today " in digest.plain


def test_digest_parts_fit_telegrams_limit_and_list_every_alert_once() -> None:
    long = "Перемир'я 🇺🇦 " * 200
    alerts = [alert(n, long) for n in range(300)]
    parts = render_digests(alerts, "some waited over 2h")
    assert [i for part in parts for i in part.alert_ids] == list(range(300))
    for part in parts:
        assert visible_length(part.html) <= MESSAGE_LIMIT
        assert utf16_len(part.plain) <= MESSAGE_LIMIT


_TAG = re.compile(r"<(?:b|i|a)[ >]")


def test_digest_parts_stay_under_the_hundred_entities_telegram_formats() -> None:
    # Short lines: 61 fit 4096 units, and at 3 tags each they carried 184 entities.
    alerts = [alert(n, "Talks in #Geneva: see geneva.example today") for n in range(200)]
    parts = render_digests(alerts, "more than 10 were waiting")
    assert [i for part in parts for i in part.alert_ids] == list(range(200))
    assert len(parts) > 4
    for part in parts:
        assert len(_TAG.findall(part.html)) < 100
        assert entity_count(part.html) < 100  # with the hashtags and links Telegram finds


def test_an_alert_with_hundreds_of_matches_stays_under_a_hundred_entities() -> None:
    post = Post("wire", "p1", "ceasefire " * 300, url="https://wire.example/1")
    many = Alert(1, "-1001", post, "rss", ("Ceasefire",), ("ceasefire",))
    html = render_alert(many, NOW, highlight_spans)
    assert html.count("<b>") >= 90 and len(_TAG.findall(html)) < 100
    assert entity_count(html) < 100


def test_first_words_cut_at_a_word_with_an_ellipsis() -> None:
    assert first_words("one two three", words=2) == "one two…"
    assert first_words("short") == "short"
    assert first_words("x" * 500).endswith("…") and utf16_len(first_words("x" * 500)) <= 111


# --- telling unsent from maybe-sent --------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_refused_connection_is_certainly_unsent() -> None:
    sender = TelegramNotifier(Secret("1:x"), f"http://127.0.0.1:{_free_port()}/bot")
    try:
        with pytest.raises(TransientDeliveryError) as caught:
            await sender.send("-1001", "hi", plain="hi")
    finally:
        await sender.aclose()
    assert not isinstance(caught.value, AmbiguousDeliveryError)


async def test_read_timeouts_and_dropped_answers_are_ambiguous(fake_telegram: FakeTelegram) -> None:
    sender = TelegramNotifier(Secret(fake_telegram.token), fake_telegram.base_url, read_timeout=0.1)
    fake_telegram.delay_next("sendMessage", 1.0)
    fake_telegram.drop_next("sendMessage")
    try:
        for _ in range(2):
            with pytest.raises(AmbiguousDeliveryError):
                await sender.send("-1001", "hi", plain="hi")
    finally:
        await sender.aclose()


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (502, b"<html><h1>502 Bad Gateway</h1> nginx</html>", "text/html"),  # a proxy's page
        (200, b"<html>captive portal</html>", "text/html"),
        (
            200,
            b'{"ok": true, "result": {"message_id": "7", "chat": {"id": -1001}}}',
            "application/json",
        ),
        (200, b'{"ok": true}', "application/json"),
        (200, b'{"ok": false, "error_code": 400, "description": "odd"}', "application/json"),
        (500, b'{"ok": false}', "application/json"),
        (503, b"[]", "application/json"),
    ],
)
async def test_an_answer_that_is_not_telegrams_own_is_ambiguous(
    fake_telegram: FakeTelegram, status: int, body: bytes, content_type: str
) -> None:
    # The fake posts the message, then something in between answers in Telegram's place.
    sender = TelegramNotifier(Secret(fake_telegram.token), fake_telegram.base_url)
    fake_telegram.garble_next("sendMessage", status=status, body=body, content_type=content_type)
    try:
        with pytest.raises(AmbiguousDeliveryError, match=f"HTTP {status}"):
            await sender.send("-1001", "hi", plain="hi")
        assert len(fake_telegram.sent_messages("-1001")) == 1  # it was posted after all
    finally:
        await sender.aclose()


async def test_telegrams_own_5xx_refusal_is_a_plain_retry(fake_telegram: FakeTelegram) -> None:
    sender = TelegramNotifier(Secret(fake_telegram.token), fake_telegram.base_url)
    fake_telegram.fail_next("sendMessage", 1, 502)  # {"ok": false, "error_code": 502, ...}
    try:
        with pytest.raises(TransientDeliveryError) as caught:
            await sender.send("-1001", "hi", plain="hi")
        assert not isinstance(caught.value, AmbiguousDeliveryError)
    finally:
        await sender.aclose()


@pytest.mark.parametrize(
    ("code", "description", "expected"),
    [
        (403, "Forbidden: bot was kicked from the channel chat", ChatUnavailableError),
        (400, "Bad Request: chat not found", ChatUnavailableError),
        (400, "Bad Request: message thread not found", ChatUnavailableError),
        (400, "Bad Request: need administrator rights in the channel chat", ChatUnavailableError),
        (400, "Bad Request: message is too long", PermanentDeliveryError),
    ],
)
async def test_refusals_about_the_chat_are_told_from_refusals_of_the_message(
    fake_telegram: FakeTelegram, code: int, description: str, expected: type[Exception]
) -> None:
    sender = TelegramNotifier(Secret(fake_telegram.token), fake_telegram.base_url)
    fake_telegram.fail_next("sendMessage", 1, code, description=description)
    try:
        with pytest.raises(PermanentDeliveryError) as caught:
            await sender.send("-1001", "hi", plain="hi")
    finally:
        await sender.aclose()
    assert type(caught.value) is expected


async def test_an_edit_that_changes_nothing_is_done(fake_telegram: FakeTelegram) -> None:
    sender = TelegramNotifier(Secret(fake_telegram.token), fake_telegram.base_url)
    fake_telegram.fail_next(
        "editMessageText",
        1,
        400,
        description="Bad Request: message is not modified: specified new message content "
        "and reply markup are exactly the same as a current content",
    )
    try:
        sent = await sender.send("-1001", "<b>hi</b>", plain="hi")
        assert sent.message_id is not None
        await sender.edit("-1001", sent.message_id, "<b>hi</b>", "hi")  # no error
        await sender.edit("-1001", sent.message_id, "<b>hi</b> again", "hi again")
    finally:
        await sender.aclose()
    assert [c.status for c in fake_telegram.calls("editMessageText")] == [400, 200]
