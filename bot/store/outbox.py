"""Session-first queries for the outbox: what is due, and recording each delivery outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.model import OutboxItem
from bot.store.queries import clip_error, match_rows, post_from_row
from bot.store.tables import OUTBOX, POST

STATUSES = ("pending", "sent", "failed")


def pending_alerts(session: Session, now: datetime, limit: int) -> list[OutboxItem]:
    """Pending alerts due by `now`, oldest first, each with its post and highlighted terms."""
    stmt = (
        sa.select(
            OUTBOX.c.id.label("alert_id"),
            OUTBOX.c.channel_id,
            OUTBOX.c.topic_ids,
            OUTBOX.c.attempts,
            OUTBOX.c.created_at,
            POST,
        )
        .join(POST, POST.c.id == OUTBOX.c.post_pk)
        .where(OUTBOX.c.status == "pending", OUTBOX.c.next_attempt_at <= now)
        .order_by(OUTBOX.c.id)
        .limit(limit)
    )
    rows = session.execute(stmt).all()
    terms: dict[tuple[int, str], list[str]] = {
        (match.post_pk, match.topic_id): match.terms
        for match in match_rows(session, sorted({row.id for row in rows}))
    }
    return [_item(row, terms) for row in rows]


def _item(row: sa.Row[Any], terms: dict[tuple[int, str], list[str]]) -> OutboxItem:
    topic_ids = tuple(row.topic_ids)
    # The union of the terms that fired for the alert's topics, first occurrence first.
    fired = dict.fromkeys(term for topic in topic_ids for term in terms.get((row.id, topic), ()))
    return OutboxItem(
        alert_id=row.alert_id,
        channel_id=row.channel_id,
        post=post_from_row(row),
        topic_ids=topic_ids,
        terms=tuple(fired),
        attempts=row.attempts,
        created_at=row.created_at,
    )


def mark_sent(session: Session, alert_id: int, message_id: int | None, sent_at: datetime) -> None:
    _update(
        session,
        alert_id,
        status="sent",
        message_id=message_id,
        sent_at=sent_at,
        status_changed_at=sent_at,
    )


def mark_retry(session: Session, alert_id: int, error: str, next_attempt_at: datetime) -> None:
    _update(
        session,
        alert_id,
        attempts=OUTBOX.c.attempts + 1,
        last_error=clip_error(error),
        next_attempt_at=next_attempt_at,
    )


def mark_failed(session: Session, alert_id: int, error: str, now: datetime) -> None:
    _update(session, alert_id, status="failed", last_error=clip_error(error), status_changed_at=now)


def _update(session: Session, alert_id: int, **values: Any) -> None:
    session.execute(sa.update(OUTBOX).where(OUTBOX.c.id == alert_id).values(**values))


def outbox_counts(session: Session) -> dict[str, int]:
    """Alerts per status; every known status is present, zero when empty."""
    counts = dict.fromkeys(STATUSES, 0)
    stmt = sa.select(OUTBOX.c.status, sa.func.count()).group_by(OUTBOX.c.status)
    for status, count in session.execute(stmt):
        counts[status] = count
    return counts
