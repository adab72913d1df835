"""Session-first queries behind `postwatch stats`: latency of recent sends, outcomes per
channel, and the backlog."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.model import ChannelCounts, DeliveryStats
from bot.store.channels import all_states
from bot.store.outbox import LATER_STATUSES, STATUSES, WAITING
from bot.store.tables import OUTBOX


def delivery_stats(session: Session, since: datetime) -> DeliveryStats:
    latencies = session.execute(
        sa.select(OUTBOX.c.latency_ms).where(
            OUTBOX.c.status == "sent", OUTBOX.c.sent_at >= since, OUTBOX.c.latency_ms.is_not(None)
        )
    ).scalars()
    recent = OUTBOX.c.status_changed_at >= since
    waiting = OUTBOX.c.status.in_(WAITING)
    per_channel = (
        sa.select(
            OUTBOX.c.channel_id,
            _count((OUTBOX.c.status == "sent") & recent),
            _count((OUTBOX.c.status == "failed") & recent),
            _count((OUTBOX.c.status == "uncertain") & recent),
            _count(waiting),
            sa.func.min(sa.case((waiting, OUTBOX.c.created_at))),
        )
        .where(recent | waiting)
        .group_by(OUTBOX.c.channel_id)
        .order_by(OUTBOX.c.channel_id)
    )
    channels = tuple(ChannelCounts(*row) for row in session.execute(per_channel))
    statuses = dict.fromkeys((*STATUSES, *LATER_STATUSES), 0)
    for status, count in session.execute(
        sa.select(OUTBOX.c.status, sa.func.count()).group_by(OUTBOX.c.status)
    ):
        statuses[status] = count
    return DeliveryStats(
        since=since,
        latencies=tuple(ms / 1000 for ms in latencies),
        channels=channels,
        statuses=statuses,
        channel_states=tuple(all_states(session)),
    )


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)
