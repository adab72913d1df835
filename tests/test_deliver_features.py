"""Delivery features against the fake Bot API server: digests (flood guard, outages, periods),
per-channel options, editing sent alerts ("Also posted by"), and the one-deliverer lease."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from deliver_helpers import (
    T0,
    FakeClock,
    KickingTelegram,
    add_alerts,
    delivered,
    delivering,
    make_config,
)

from bot.notify.base import ConsoleNotifier
from bot.runtime.core import open_runtime
from bot.runtime.jobs import Jobs
from bot.store.database import Store

CHAT = "-1001000000001"
OTHER = "-1001000000002"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def telegram(clock: FakeClock) -> Iterator[KickingTelegram]:
    with KickingTelegram(enforce_limits=True, clock=clock.monotonic) as server:
        yield server


# --- digests ---------------------------------------------------------------------------------


async def test_a_burst_after_an_outage_becomes_one_digest(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    config = make_config(db_url, telegram, [{"id": "news", "chat_id": CHAT}])
    add_alerts(store, [1, 2], ["news"], clock.now())
    telegram.fail_next("sendMessage", 1, 502)  # Telegram is down

    async with delivering(store, telegram, config, clock) as deliverer:
        first = await deliverer.drain()  # a one-shot run meets the outage and leaves
        assert (first.sent, telegram.sent_messages()) == (0, [])
        clock.advance(600)
        add_alerts(store, range(3, 25), ["news"], clock.now())  # meanwhile, polls go on
        second = await deliverer.drain()

    (digest,) = telegram.sent_messages(CHAT)
    assert delivered(telegram) == {n: 1 for n in range(1, 25)}
    assert (digest.text or "").startswith("🗞 <b>24 alerts · more than 10 were waiting</b>")
    assert digest.params["link_preview_options"] == {"is_disabled": True}
    assert (second.sent, second.digests) == (24, 1)
    assert store.outbox_counts() == {"pending": 0, "sent": 24, "failed": 0}

    # Once the backlog is gone, alerts go one by one again.
    add_alerts(store, [25], ["news"], clock.now())
    async with delivering(store, telegram, config, clock) as deliverer:
        await deliverer.drain()
    assert "🔔" in (telegram.sent_messages(CHAT)[-1].text or "")
    assert delivered(telegram, CHAT)[25] == 1


async def test_alerts_held_back_longer_than_max_delay_go_as_a_digest(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    config = make_config(
        db_url, telegram, [{"id": "news", "chat_id": CHAT}], delivery={"max_delay": "30m"}
    )
    add_alerts(store, [1, 2, 3], ["news"], clock.now())
    clock.advance(31 * 60)

    async with delivering(store, telegram, config, clock) as deliverer:
        await deliverer.drain()

    (digest,) = telegram.sent_messages(CHAT)
    assert "3 alerts · some waited over 30m" in (digest.text or "")
    assert delivered(telegram) == {1: 1, 2: 1, 3: 1}


async def test_a_huge_backlog_is_split_into_numbered_digest_parts(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    config = make_config(db_url, telegram, [{"id": "news", "chat_id": CHAT}])
    add_alerts(store, range(100), ["news"], clock.now())

    async with delivering(store, telegram, config, clock) as deliverer:
        await deliverer.drain()

    parts = telegram.sent_messages(CHAT)
    assert 2 <= len(parts) < 10
    assert all(f"part {i} of {len(parts)}" in (p.text or "") for i, p in enumerate(parts, 1))
    assert delivered(telegram) == {n: 1 for n in range(100)}  # each alert in exactly one
    assert telegram.throttled == 0


async def test_a_digest_channel_gets_one_message_per_period(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    config = make_config(
        db_url,
        telegram,
        [{"id": "hourly", "chat_id": CHAT, "digest": "1h"}, {"id": "live", "chat_id": OTHER}],
    )
    add_alerts(store, [1, 2, 3], ["hourly", "live"], clock.now())

    async with delivering(store, telegram, config, clock) as deliverer:
        running = asyncio.create_task(deliverer.run())
        while len(telegram.sent_messages(OTHER)) < 3:
            await asyncio.sleep(0.005)
        assert telegram.sent_messages(CHAT) == []  # waits for its period
        deliverer.request_digest("hourly")  # what the APScheduler interval job does
        while not telegram.sent_messages(CHAT):
            await asyncio.sleep(0.005)
        deliverer.stop()
        await running

    (digest,) = telegram.sent_messages(CHAT)
    assert "3 alerts · the digest every 1h" in (digest.text or "")
    assert delivered(telegram, CHAT) == {1: 1, 2: 1, 3: 1}

    # A one-shot run (or a restart) catches up on a period that passed while it was down.
    add_alerts(store, [4], ["hourly"], clock.now())
    async with delivering(store, telegram, config, clock) as deliverer:
        await deliverer.drain()
        assert len(telegram.sent_messages(CHAT)) == 1  # the period has not passed yet
        clock.advance(3601)
        await deliverer.drain()
    assert delivered(telegram, CHAT)[4] == 1


# --- per-channel options ---------------------------------------------------------------------


async def test_thread_silent_and_no_preview_options_reach_telegram(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    channel = {"id": "forum", "chat_id": CHAT, "thread_id": 42, "silent": True}
    config = make_config(db_url, telegram, [channel | {"link_preview": False}])
    add_alerts(store, [1], ["forum"], clock.now())

    async with delivering(store, telegram, config, clock) as deliverer:
        await deliverer.drain()

    (message,) = telegram.sent_messages(CHAT)
    assert int(message.params["message_thread_id"]) == 42
    assert str(message.params["disable_notification"]).lower() == "true"
    assert message.params["link_preview_options"] == {"is_disabled": True}


async def test_media_sends_the_image_with_the_alert_as_caption(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    config = make_config(db_url, telegram, [{"id": "pics", "chat_id": CHAT, "media": True}])
    add_alerts(store, [1], ["pics"], clock.now(), image="https://img.example/1.jpg")
    add_alerts(store, [2], ["pics"], clock.now())  # no image: a text message
    add_alerts(store, [3], ["pics"], clock.now(), image="https://img.example/broken.jpg")
    telegram.bad_photos.add("https://img.example/broken.jpg")

    async with delivering(store, telegram, config, clock) as deliverer:
        await deliverer.drain()

    photos = telegram.calls("sendPhoto")
    assert [c.params["photo"] for c in photos] == [
        "https://img.example/1.jpg",
        "https://img.example/broken.jpg",
    ]
    assert delivered(telegram, CHAT) == {1: 1, 2: 1, 3: 1}  # a refused image goes as text


def queue_photo_alert(store: Store, post_id: str, text: str, clock: FakeClock) -> None:
    """A stored post with an image, matched and routed to the `pics` channel."""
    from bot.model import AlertIntent, Post, SourceState, TopicMatch

    post = Post(
        "wire",
        post_id,
        text,
        url=f"https://wire.example/{post_id}",
        image_url=f"https://img.example/{post_id}.jpg",
        published_at=T0,
    )
    store.save_poll(
        SourceState("wire"),
        [post],
        {post.key: [TopicMatch("t1", ("ceasefire",))]},
        [AlertIntent("wire", post_id, "pics", ("t1",))],
        clock.now(),
    )


async def test_media_caption_fits_telegrams_caption_limit(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    config = make_config(db_url, telegram, [{"id": "pics", "chat_id": CHAT, "media": True}])
    queue_photo_alert(store, "long", "ceasefire " * 400, clock)

    async with delivering(store, telegram, config, clock) as deliverer:
        await deliverer.drain()

    (photo,) = telegram.sent_messages(CHAT)
    assert photo.method == "sendPhoto" and photo.status == 200  # the fake checks 1024 units


# --- edits -----------------------------------------------------------------------------------


async def test_sent_alerts_are_edited_with_also_posted_by_at_most_once_a_minute(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    config = make_config(db_url, telegram, [{"id": "news", "chat_id": CHAT}])
    add_alerts(store, [1, 2], ["news"], clock.now())
    (first, second) = store.pending_alerts(clock.now())
    # A pending alert shows the names in its first send: no edit needed.
    store.request_edit(second.alert_id, ["@Mirror <X>"], clock.now())

    async with delivering(store, telegram, config, clock) as deliverer:
        await deliverer.drain()
        assert "Also posted by: @Mirror &lt;X&gt;" in (telegram.sent_messages(CHAT)[1].text or "")

        store.request_edit(first.alert_id, ["@TrumpDailyPosts (X)"], clock.now())
        await deliverer.drain()
        clock.advance(10)
        store.request_edit(first.alert_id, ["whitehouse (rss)"], clock.now())
        store.request_edit(first.alert_id, ["@PressSec (X)"], clock.now())
        await deliverer.drain()  # within the minute: nothing yet
        assert len(telegram.calls("editMessageText")) == 1
        clock.advance(60)
        await deliverer.drain()

    edits = telegram.calls("editMessageText")
    assert [e.status for e in edits] == [200, 200]
    assert edits[0].at + 60 <= edits[1].at
    assert "Also posted by: @TrumpDailyPosts (X)\n" in edits[0].params["text"]
    assert (
        "Also posted by: @TrumpDailyPosts (X), whitehouse (rss), @PressSec (X)"
        in edits[1].params["text"]
    )
    assert int(edits[0].params["message_id"]) == telegram.sent_messages(CHAT)[0].message_id
    assert len(telegram.sent_messages()) == 2  # edits, never new messages


async def test_alerts_sent_more_than_a_day_ago_are_not_edited(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    config = make_config(db_url, telegram, [{"id": "news", "chat_id": CHAT}])
    add_alerts(store, [1], ["news"], clock.now())
    (item,) = store.pending_alerts(clock.now())

    async with delivering(store, telegram, config, clock) as deliverer:
        await deliverer.drain()
        clock.advance(timedelta(hours=25).total_seconds())
        store.request_edit(item.alert_id, ["@Late (X)"], clock.now())
        await deliverer.drain()

    assert telegram.calls("editMessageText") == []


async def test_a_photo_alert_gets_its_caption_edited(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    config = make_config(db_url, telegram, [{"id": "pics", "chat_id": CHAT, "media": True}])
    queue_photo_alert(store, "p1", "Ceasefire on energy infrastructure agreed.", clock)
    (item,) = store.pending_alerts(clock.now())
    async with delivering(store, telegram, config, clock) as deliverer:
        await deliverer.drain()
        store.request_edit(item.alert_id, ["@TrumpDailyPosts (X)"], clock.now())
        await deliverer.drain()

    (photo,) = telegram.sent_messages(CHAT)
    assert photo.method == "sendPhoto"
    assert telegram.calls("editMessageText") == []
    (edit,) = telegram.calls("editMessageCaption")
    assert edit.status == 200 and int(edit.params["message_id"]) == photo.message_id
    assert "Also posted by: @TrumpDailyPosts (X)" in edit.params["caption"]


# --- one deliverer per database --------------------------------------------------------------


async def test_two_running_copies_never_both_send(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    config = make_config(db_url, telegram, [{"id": "news", "chat_id": CHAT}])
    add_alerts(store, [1], ["news"], clock.now())

    async with (
        delivering(store, telegram, config, clock) as first,
        delivering(store, telegram, config, clock) as second,
    ):
        running = asyncio.create_task(first.run())
        while store.outbox_counts()["sent"] < 1:
            await asyncio.sleep(0.005)
        add_alerts(store, [2], ["news"], clock.now())
        assert (await second.drain()).skipped  # the first one holds the lease
        while store.outbox_counts()["sent"] < 2:  # ... and sends what comes next
            await asyncio.sleep(0.005)
        first.stop()
        await running  # a clean stop releases the lease: the next copy takes over at once
        add_alerts(store, [3], ["news"], clock.now())
        report = await second.drain()
    assert (report.skipped, report.sent) == (False, 1)
    assert delivered(telegram) == {1: 1, 2: 1, 3: 1}


async def test_digest_channels_get_an_interval_job_that_follows_reloads(db_url: str) -> None:
    config = make_config(
        db_url,
        None,
        [{"id": "hourly", "chat_id": CHAT, "digest": "1h"}, {"id": "live", "chat_id": OTHER}],
    )
    runtime = await open_runtime(config, notifier=ConsoleNotifier(io.StringIO()))
    try:
        jobs = Jobs(runtime)  # not started: nothing runs behind the test
        jobs.reschedule_sources()
        assert jobs.digest_channels == {"hourly": timedelta(hours=1)}
        runtime.config = replace(
            config, channels=(replace(config.channels[0], digest=timedelta(minutes=30)),)
        )
        jobs.reschedule_sources()  # what a SIGHUP reload does
        assert jobs.digest_channels == {"hourly": timedelta(minutes=30)}
    finally:
        await runtime.close()
