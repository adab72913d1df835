"""`postwatch stats`: delivery latency, outcomes per channel and the backlog, as text. Pure:
the numbers come from `Store.delivery_stats`, `now` is a parameter.

    Delivery since 2026-03-18 14:00 UTC (24h)
    latency, first seen → sent: p50 1.2s · p95 4.8s · max 12s (143 alerts)

    CHANNEL     SENT  FAILED  UNCERTAIN  WAITING  OLDEST WAITING
    ceasefire    120       0          0        3  12s
    markets       23       2          0        0  -

    outbox, all time: 3 pending, 0 sending, 1,234 sent, 2 failed, 0 uncertain
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.cli.args import Moment, moment_at
from bot.cli.exit_codes import EXIT_OK
from bot.cli.terminal import clean_for_terminal
from bot.config.settings import Config
from bot.model import ChannelCounts, DeliveryStats
from bot.store.database import Store

STATUS_ORDER = ("pending", "sending", "sent", "failed", "uncertain")


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `fraction` of all at or
    below it (p50 of 1..4 is 2). ValueError on no values."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def human_duration(seconds: float) -> str:
    """850ms, 12s, 3m20s, 2h5m, 3d4h: two units at most."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{round(seconds)}s"
    whole = round(seconds)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, whole = divmod(whole, size)
        if count or parts:
            parts.append(f"{count}{unit}")
    return "".join(p for p in parts[:2] if not p.startswith("0"))


def format_stats(stats: DeliveryStats, now: datetime, channel_ids: Sequence[str] = ()) -> list[str]:
    """The report's lines; `channel_ids`: configured channels, listed even when idle."""
    window = human_duration((now - stats.since).total_seconds())
    lines = [f"Delivery since {stats.since:%Y-%m-%d %H:%M} UTC ({window})"]
    if stats.latencies:
        p50, p95 = percentile(stats.latencies, 0.5), percentile(stats.latencies, 0.95)
        lines.append(
            f"latency, first seen → sent: p50 {human_duration(p50)} · p95 "
            f"{human_duration(p95)} · max {human_duration(max(stats.latencies))} "
            f"({len(stats.latencies):,} alerts)"
        )
    else:
        lines.append("latency, first seen → sent: no alerts sent in this window")
    counts = {c.channel_id: c for c in stats.channels}
    rows = [counts.get(cid) or ChannelCounts(cid) for cid in channel_ids]
    rows += [c for cid, c in counts.items() if cid not in channel_ids]
    if rows:
        lines.append("")
        lines += _table(rows, now)
    totals = ", ".join(f"{stats.statuses.get(s, 0):,} {s}" for s in STATUS_ORDER)
    lines += ["", f"outbox, all time: {totals}"]
    for state in stats.channel_states:
        if state.disabled_reason is not None and state.disabled_at is not None:
            lines.append(
                f"disabled: {state.channel_id} since {state.disabled_at:%Y-%m-%d %H:%M} UTC: "
                f"{state.disabled_reason} (restart postwatch once the bot is back in the chat)"
            )
    return lines


def _table(rows: Sequence[ChannelCounts], now: datetime) -> list[str]:
    header = ("CHANNEL", "SENT", "FAILED", "UNCERTAIN", "WAITING", "OLDEST WAITING")
    cells = [header] + [
        (
            row.channel_id,
            f"{row.sent:,}",
            f"{row.failed:,}",
            f"{row.uncertain:,}",
            f"{row.pending:,}",
            human_duration(max(timedelta(0), now - row.oldest_pending).total_seconds())
            if row.oldest_pending
            else "-",
        )
        for row in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return [
        "  ".join(
            cell.ljust(width) if i in (0, 5) else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in cells
    ]


def stats(config: Config, since: Moment) -> int:
    """`postwatch stats [--since 24h|ISO]`."""
    now = datetime.now(UTC)
    with Store.open(config.database_url, create=False) as store:
        figures = store.delivery_stats(moment_at(since, now))
    for line in format_stats(figures, now, [c.id for c in config.channels]):
        print(clean_for_terminal(line))  # a disabled channel's reason quotes Telegram
    return EXIT_OK
