"""Crash test: `postwatch run` killed with SIGKILL at random moments while it delivers a few
hundred alerts, restarted each time; then the fake Bot API server must have every alert at
least once, and no more duplicates than there were kills (only the alert on the wire when the
process died may arrive twice)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_helpers import write_config
from deliver_helpers import add_alerts
from fakes.telegram_api import FakeTelegram
from fakes.telegram_rules import Limits

from bot.store.database import Store

pytestmark = pytest.mark.slow

ALERTS_PER_CHANNEL = 110
CHATS = {"c0": "-1001000000000", "c1": "-1001000000001", "c2": "@crash_test_alerts"}
KILLS = 22
# Limits scaled up from Telegram's (the fake enforces the same ones postwatch paces to), so a
# few hundred alerts take seconds; time is not asserted, only what arrived.
LIMITS = {"overall": "20/1s", "per_chat": "5/1s", "per_group": "600/1m"}
FAKE_LIMITS = Limits(overall=(20, 1.0), private=(5, 1.0), group=(600, 60.0))


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(enforce_limits=True, limits=FAKE_LIMITS) as server:
        yield server


def start(config: Path, token: str, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTWATCH_")}
    env["TELEGRAM_BOT_TOKEN"] = token
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "--config", str(config), "run"],
            stdout=sink,
            stderr=sink,
            env=env,
        )


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the delivery to make progress")
        time.sleep(0.01)


def test_sigkill_during_delivery_loses_nothing_and_repeats_at_most_one_per_kill(
    tmp_path: Path, db_url: str, telegram: FakeTelegram
) -> None:
    seed = random.randrange(1_000_000)
    chance = random.Random(seed)
    store = Store.open(db_url)
    add_alerts(store, range(ALERTS_PER_CHANNEL), list(CHATS), datetime.now(UTC))
    total = ALERTS_PER_CHANNEL * len(CHATS)
    config = write_config(
        tmp_path / "postwatch.yaml",
        {
            "database_url": db_url,
            "telegram": {"token": "${TELEGRAM_BOT_TOKEN}", "base_url": telegram.base_url},
            "delivery": {"burst": 10_000, "limits": LIMITS},  # one message per alert
            "channels": [{"id": cid, "chat_id": chat} for cid, chat in CHATS.items()],
            # Nothing to poll: the outbox above is all there is.
            "sources": [
                {"id": "wire", "kind": "rss", "url": "https://wire.example/rss", "enabled": False}
            ],
        },
    )
    log = tmp_path / "postwatch.log"

    def sent() -> int:
        return len(telegram.sent_messages())

    try:
        kills = 0
        while kills < KILLS:
            before = sent()
            assert before < total, f"everything was sent after {kills} kills (seed {seed})"
            process = start(config, telegram.token, log)
            wait_for(lambda before=before: sent() > before)  # it is delivering now
            time.sleep(chance.uniform(0, 0.2))
            process.send_signal(signal.SIGKILL)
            process.wait()  # reaped: a zombie would look alive to the next process
            kills += 1
        process = start(config, telegram.token, log)
        wait_for(lambda: store.outbox_counts()["sent"] == total, timeout=60)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    except BaseException:
        print(log.read_text()[-5000:], f"\nseed {seed}")
        raise
    finally:
        store.close()

    arrived: Counter[tuple[str, str]] = Counter()
    for call in telegram.sent_messages():
        text = call.text or ""
        number = text.split("wire.example/")[1].split('"')[0]
        arrived[(call.chat_id or "", number)] += 1
    expected = {(chat, str(n)) for chat in CHATS.values() for n in range(ALERTS_PER_CHANNEL)}
    assert set(arrived) == expected, f"missing: {sorted(expected - set(arrived))[:10]}"
    duplicates = sum(count - 1 for count in arrived.values())
    assert duplicates <= kills, f"{duplicates} duplicates after {kills} kills (seed {seed})"
    # Each start counts what the killed process sent in the last window (read back from the
    # outbox), so restarts do not burst past the limits either.
    assert telegram.throttled == 0
