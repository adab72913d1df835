"""The delivery loop against the fake Bot API server enforcing Telegram's flood limits, on real
SQLite and PostgreSQL, with an injected clock: pacing, 429s, timeouts, migration, kicked
channels, refusals, and delivery on its own thread."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from db_helpers import impatient_store, write_locked
from deliver_helpers import (
    ADMIN,
    T0,
    FakeClock,
    KickingTelegram,
    add_alerts,
    delivered,
    delivering,
    make_config,
    run_until,
)

from bot.deliver.lease import LEASE_TTL
from bot.store.database import Store

GROUPS = [f"-10010000000{i}" for i in range(5)]
NO_DIGESTS = {"burst": 10_000}  # these tests are about single messages


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def telegram(clock: FakeClock) -> Iterator[KickingTelegram]:
    with KickingTelegram(enforce_limits=True, clock=clock.monotonic) as server:
        yield server


def channels(chats: list[str]) -> list[dict[str, str]]:
    return [{"id": f"c{i}", "chat_id": chat} for i, chat in enumerate(chats)]


def numbers_in_order(telegram: KickingTelegram, chat: str) -> list[int]:
    return [n for call in telegram.sent_messages(chat) for n in delivered_one(call.text)]


def delivered_one(text: str | None) -> list[int]:
    return [int(n) for n in re.findall(r"wire\.example/(\d+)", text or "")]


async def test_200_alerts_to_5_channels_drain_without_a_single_429(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    config = make_config(db_url, telegram, channels(GROUPS), NO_DIGESTS)
    add_alerts(store, range(40), [f"c{i}" for i in range(5)], clock.now())

    async with delivering(store, telegram, config, clock) as deliverer:
        report = await deliverer.drain()

    assert telegram.throttled == 0
    assert report.sent == 200
    for chat in GROUPS:
        assert numbers_in_order(telegram, chat) == list(range(40))  # each once, in order
    assert store.outbox_counts() == {"pending": 0, "sent": 200, "failed": 0}
    # 40 messages to one group at 20 a minute cannot take less than a minute of (fake) time.
    assert telegram.sent_messages()[-1].at - telegram.sent_messages()[0].at >= 60


async def test_a_429_waits_exactly_retry_after_and_keeps_order(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    config = make_config(db_url, telegram, channels(GROUPS[:2]), NO_DIGESTS)
    add_alerts(store, range(4), ["c0", "c1"], clock.now())
    telegram.fail_next("sendMessage", 1, 429, retry_after=7)

    async with delivering(store, telegram, config, clock) as deliverer:
        await deliverer.drain()

    calls = telegram.calls("sendMessage")
    throttled = next(i for i, c in enumerate(calls) if c.status == 429)
    assert calls[throttled + 1].at == pytest.approx(calls[throttled].at + 7)  # not a moment less
    assert calls[throttled + 1].params["text"] == calls[throttled].params["text"]  # same alert
    for chat in GROUPS[:2]:
        assert numbers_in_order(telegram, chat) == [0, 1, 2, 3]
    assert telegram.throttled == 0  # only the injected one


async def test_dropped_connections_and_5xx_end_with_each_alert_once(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    config = make_config(db_url, telegram, channels(GROUPS[:2]), NO_DIGESTS)
    add_alerts(store, range(6), ["c0", "c1"], clock.now())
    telegram.drop_next("sendMessage", 1)  # sent, no answer: ambiguous, resent once
    telegram.fail_next("sendMessage", 2, 502)  # Telegram answered: certainly not posted

    async with delivering(store, telegram, config, clock) as deliverer:
        await run_until(deliverer, lambda: store.outbox_counts()["sent"] == 12)

    assert delivered(telegram) == Counter({n: 2 for n in range(6)})  # once per channel
    for chat in GROUPS[:2]:
        assert numbers_in_order(telegram, chat) == list(range(6))
    (first, *_) = store.delivery_stats(T0).channels
    assert first.failed == first.uncertain == 0


async def test_a_read_timeout_is_resent_once_then_marked_uncertain(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    """The documented policy: Telegram may have posted a message whose answer timed out. It
    is sent again once; a second timeout makes it `uncertain` (reported), never a third copy."""
    config = make_config(db_url, telegram, channels(GROUPS[:1]), NO_DIGESTS)
    add_alerts(store, [1, 2], ["c0"], clock.now())
    telegram.delay_next("sendMessage", 0.6, n=2)  # the server posts it, the answer comes late

    async with delivering(store, telegram, config, clock, read_timeout=0.15) as deliverer:
        await run_until(
            deliverer,
            lambda: store.outbox_counts() == {"pending": 0, "sent": 1, "failed": 0, "uncertain": 1},
        )

    while len(telegram.calls("sendMessage")) < 3:  # the late answers are still being written
        await asyncio.sleep(0.01)
    attempts = Counter(n for c in telegram.calls("sendMessage") for n in delivered_one(c.text))
    assert attempts[1] == 2  # tried twice, no more
    assert delivered(telegram)[2] == 1
    (row,) = store.delivery_stats(T0).channels
    assert row.uncertain == 1


async def test_answers_lost_behind_a_proxy_give_at_most_two_copies_then_uncertain(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    """Telegram posted the message, but a proxy's 502 page (or a 200 that is not the Bot API's
    answer) came back instead: ambiguous, like a read timeout. Resent once, then `uncertain`."""
    config = make_config(db_url, telegram, channels(GROUPS[:1]), NO_DIGESTS)
    add_alerts(store, [1, 2, 3], ["c0"], clock.now())
    telegram.garble_next("sendMessage", 2, status=502)  # alert 1, twice
    telegram.garble_next("sendMessage", 1, status=200, body=b"OK")  # alert 2's first send

    async with delivering(store, telegram, config, clock) as deliverer:
        await run_until(
            deliverer,
            lambda: store.outbox_counts() == {"pending": 0, "sent": 2, "failed": 0, "uncertain": 1},
        )

    posted = Counter(n for c in telegram.sent_messages() for n in delivered_one(c.text))
    assert posted == Counter({1: 2, 2: 2, 3: 1})  # never a third copy
    (row,) = store.delivery_stats(T0).channels
    assert (row.sent, row.uncertain) == (2, 1)


async def test_a_flood_wait_outlives_the_process_that_was_told(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    """Telegram said "retry after a day"; the process stops. The next one, and a `run --once`,
    send nothing into that day, and send as soon as it is over."""
    config = make_config(db_url, telegram, channels(GROUPS[:2]), NO_DIGESTS)
    add_alerts(store, [1, 2], ["c0", "c1"], clock.now())
    telegram.fail_next("sendMessage", 1, 429, retry_after=86_400)
    async with delivering(store, telegram, config, clock) as deliverer:
        report = await deliverer.drain()  # a one-shot run leaves a long wait to the next run
    assert (report.sent, len(telegram.calls("sendMessage"))) == (0, 1)

    clock.advance(3600)  # restarted an hour later: 23 hours still to wait
    async with delivering(store, telegram, config, clock) as deliverer:
        report = await deliverer.drain()
    assert (report.sent, len(telegram.calls("sendMessage"))) == (0, 1)
    clock.advance(23 * 3600 - 30)  # the daemon, restarted half a minute before the end
    async with delivering(store, telegram, config, clock) as deliverer:
        await run_until(deliverer, lambda: store.outbox_counts()["sent"] == 4)
    first_after = telegram.sent_messages()[0].at
    assert first_after >= telegram.calls("sendMessage")[0].at + 86_400  # not a moment less
    assert delivered(telegram) == Counter({1: 2, 2: 2})


async def test_a_migrated_group_gets_its_alerts_at_the_new_id_once(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    config = make_config(db_url, telegram, [{"id": "team", "chat_id": "-4012345"}], NO_DIGESTS)
    add_alerts(store, range(3), ["team"], clock.now())
    telegram.fail_next("sendMessage", migrate_to_chat_id=-1009876543210)

    async with delivering(store, telegram, config, clock) as deliverer:
        await deliverer.drain()
        add_alerts(store, [3], ["team"], clock.now())
        await deliverer.drain()

    assert numbers_in_order(telegram, "-1009876543210") == [0, 1, 2, 3]
    assert telegram.sent_messages("-4012345") == []
    state = store.channel_states({"team": "-4012345"})["team"]
    assert state.chat_number == -1009876543210  # stored as a 64-bit integer


async def test_a_kicked_channel_fails_its_alerts_tells_admins_once_and_blocks_no_one(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    config = make_config(db_url, telegram, channels(GROUPS[:3]), NO_DIGESTS)
    telegram.kicked.add(GROUPS[1])
    add_alerts(store, range(5), ["c0", "c1", "c2"], clock.now())

    async with delivering(store, telegram, config, clock) as deliverer:
        await deliverer.drain()
        add_alerts(store, [5], ["c0", "c1", "c2"], clock.now())  # the next poll
        await deliverer.drain()

    assert numbers_in_order(telegram, GROUPS[0]) == list(range(6))
    assert numbers_in_order(telegram, GROUPS[2]) == list(range(6))
    kicked = [c.status for c in telegram.calls("sendMessage") if c.chat_id == GROUPS[1]]
    assert kicked == [403]  # asked once, then disabled
    (notice,) = telegram.sent_messages(str(ADMIN))
    assert "'c1'" in (notice.text or "") and "disabled" in (notice.text or "")
    counts = {c.channel_id: c for c in store.delivery_stats(T0).channels}
    assert (counts["c1"].failed, counts["c1"].pending) == (6, 0)

    # After a restart (the operator re-added the bot), the channel is tried again.
    telegram.kicked.clear()
    add_alerts(store, [6], ["c1"], clock.now())
    async with delivering(store, telegram, config, clock) as restarted:
        await restarted.drain()
    assert numbers_in_order(telegram, GROUPS[1]) == [6]
    assert len(telegram.sent_messages(str(ADMIN))) == 1


async def test_a_refused_message_is_retried_a_bounded_number_of_times(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    config = make_config(db_url, telegram, channels(GROUPS[:1]), NO_DIGESTS)
    add_alerts(store, [1, 2], ["c0"], clock.now())
    telegram.refused.add("number 1 ")

    async with delivering(store, telegram, config, clock) as deliverer:
        await run_until(
            deliverer, lambda: store.outbox_counts() == {"pending": 0, "sent": 1, "failed": 1}
        )

    assert [c.status for c in telegram.calls("sendMessage")].count(400) == 3  # three tries
    assert numbers_in_order(telegram, GROUPS[0]) == [2]  # a poison alert does not block others


async def test_delivery_has_its_own_database_thread(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    """Polls use asyncio.to_thread; with every default worker busy, delivery still runs."""
    config = make_config(db_url, telegram, channels(GROUPS[:1]), NO_DIGESTS)
    add_alerts(store, [1], ["c0"], clock.now())
    release = threading.Event()
    busy = [asyncio.create_task(asyncio.to_thread(release.wait)) for _ in range(64)]
    try:
        async with delivering(store, telegram, config, clock) as deliverer:
            report = await asyncio.wait_for(deliverer.drain(), timeout=20)
    finally:
        release.set()
        await asyncio.gather(*busy)
    assert report.sent == 1


async def test_stop_lets_the_send_on_the_wire_finish(
    store: Store, telegram: KickingTelegram, clock: FakeClock, db_url: str
) -> None:
    config = make_config(db_url, telegram, channels(GROUPS[:1]), NO_DIGESTS)
    add_alerts(store, [1, 2], ["c0"], clock.now())
    telegram.delay_next("sendMessage", 0.3)

    async with delivering(store, telegram, config, clock) as deliverer:
        task = asyncio.create_task(deliverer.run())
        while store.outbox_counts().get("sending") != 1:
            await asyncio.sleep(0.005)
        deliverer.stop()
        await task

    assert store.outbox_counts() == {"pending": 1, "sent": 1, "failed": 0}
    assert numbers_in_order(telegram, GROUPS[0]) == [1]
    lease = store.acquire_lease("next-process", clock.now(), LEASE_TTL)
    assert lease.held  # released at stop: the next start need not wait for expiry


async def test_a_lock_another_writer_holds_is_waited_out_quietly(
    db_url: str, telegram: KickingTelegram, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A large poll holds the write lock past the busy timeout: delivery waits and retries,
    and says nothing above DEBUG for a lock it waited out; each alert goes once."""
    store = impatient_store(db_url)  # gives up on a held lock after 0.1 s, not 15 s
    config = make_config(db_url, telegram, channels(GROUPS[:1]), NO_DIGESTS)
    add_alerts(store, [1, 2, 3], ["c0"], clock.now())
    caplog.set_level(logging.DEBUG, logger="bot.deliver")
    released = threading.Event()

    def hold_the_lock() -> None:
        give_up = time.monotonic() + 5
        with write_locked(db_url, "outbox"):
            while sum("database busy" in r.getMessage() for r in caplog.records) < 3:
                if time.monotonic() > give_up:
                    break
                time.sleep(0.01)
        released.set()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        async with delivering(store, telegram, config, clock) as deliverer:
            await run_until(deliverer, lambda: store.outbox_counts()["sent"] == 3)
    finally:
        holder.join()
        store.close()
    assert released.is_set()
    assert delivered(telegram) == Counter({1: 1, 2: 1, 3: 1})
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert loud == []
