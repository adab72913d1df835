"""`postwatch stats`: latency percentiles of the last 24h, alerts sent and failed per channel,
and the outbox backlog — the arithmetic, the wording, and the command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_helpers import postwatch, write_config
from deliver_helpers import add_alerts

from bot.cli.stats import format_stats, human_duration, percentile
from bot.model import ChannelCounts, ChannelState, DeliveryStats, SentMessage
from bot.store.database import Store


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile([3.0, 1.0, 2.0, 4.0], 0.5) == 2.0
    assert percentile([7.0], 0.95) == 7.0
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.25, "250ms"), (1.25, "1.2s"), (12.4, "12s"), (200, "3m20s"), (7500, "2h5m"), (3600, "1h")],
)
def test_durations_read_like_a_person_would_write_them(seconds: float, shown: str) -> None:
    assert human_duration(seconds) == shown


def test_the_report_lists_latency_channels_backlog_and_disabled_channels() -> None:
    now = datetime(2026, 3, 18, 14, 0, tzinfo=UTC)
    stats = DeliveryStats(
        since=now - timedelta(hours=24),
        latencies=(1.0, 2.0, 3.0, 40.0),
        channels=(
            ChannelCounts(
                "ceasefire", sent=3, pending=2, oldest_pending=now - timedelta(seconds=90)
            ),
            ChannelCounts("gone", failed=4),
        ),
        statuses={"pending": 2, "sending": 0, "sent": 3, "failed": 4, "uncertain": 1},
        channel_states=(
            ChannelState("gone", "@gone", disabled_reason="bot was kicked", disabled_at=now),
        ),
    )
    lines = format_stats(stats, now, ["ceasefire", "markets"])
    assert lines[0] == "Delivery since 2026-03-17 14:00 UTC (1d)"
    assert lines[1] == "latency, first seen → sent: p50 2.0s · p95 40s · max 40s (4 alerts)"
    table = lines[3:7]
    assert table[0].split() == [
        "CHANNEL",
        "SENT",
        "FAILED",
        "UNCERTAIN",
        "WAITING",
        "OLDEST",
        "WAITING",
    ]
    assert table[1].split() == ["ceasefire", "3", "0", "0", "2", "1m30s"]
    assert table[2].split() == ["markets", "0", "0", "0", "0", "-"]  # configured, idle
    assert table[3].split() == ["gone", "0", "4", "0", "0", "-"]
    assert "outbox, all time: 2 pending, 0 sending, 3 sent, 4 failed, 1 uncertain" in lines
    assert any(line.startswith("disabled: gone since 2026-03-18 14:00 UTC") for line in lines)


def test_postwatch_stats_reads_the_database(tmp_path: Path, db_url: str) -> None:
    now = datetime.now(UTC)
    store = Store.open(db_url)
    try:
        add_alerts(store, range(4), ["ceasefire"], now - timedelta(minutes=5))
        add_alerts(store, [9], ["ceasefire"], now - timedelta(days=3))  # outside the window
        first, second, third, _fourth, old = store.pending_alerts(now)
        store.record_sent([first.alert_id], SentMessage(1, "@c"), now - timedelta(minutes=4))
        store.record_sent([second.alert_id], SentMessage(2, "@c"), now - timedelta(minutes=3))
        store.record_sent([old.alert_id], SentMessage(3, "@c"), now - timedelta(days=3))
        store.record_failed(third.alert_id, "Bad Request", now)
    finally:
        store.close()
    config = write_config(
        tmp_path / "postwatch.yaml",
        {
            "database_url": db_url,
            "channels": [{"id": "ceasefire", "chat_id": "@ceasefire_alerts"}],
            "sources": [{"id": "wire", "kind": "rss", "url": "https://wire.example/rss"}],
        },
    )

    result = postwatch("--config", str(config), "stats")

    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == "latency, first seen → sent: p50 1m · p95 2m · max 2m (2 alerts)"
    row = next(line for line in lines if line.startswith("ceasefire"))
    assert row.split()[:5] == ["ceasefire", "2", "1", "0", "1"]  # sent, failed, uncertain, waiting
    assert "outbox, all time: 1 pending, 0 sending, 3 sent, 1 failed, 0 uncertain" in lines

    week = postwatch("--config", str(config), "stats", "--since", "7d")
    assert "(3 alerts)" in week.stdout
