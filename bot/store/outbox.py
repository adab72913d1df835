"""Session-first queries for the outbox: what is due, and recording each delivery outcome.

An outbox row moves through these statuses (bot.deliver decides, these functions record):

    pending ──claim──▶ sending ──answered──▶ sent
       ▲                  │
       └── retry ─────────┤ (429, network trouble, a refusal under the strike limit)
                          ├──▶ failed      permanent, with the reason (chat gone, bad request)
                          └──▶ uncertain   a second ambiguous send: maybe delivered, not resent

`sending` is written before the request leaves, so after a crash the rows still `sending` are
exactly the ones that may be on Telegram without our knowing (`recover_sending`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.model import OutboxItem, SentMessage
from bot.store.queries import chunked, clip_error, match_rows, post_from_row
from bot.store.tables import LEASE, OUTBOX, POST

STATUSES = ("pending", "sent", "failed")
# Shown by outbox_counts only when some row has them (the three above are always present).
LATER_STATUSES = ("sending", "uncertain")
WAITING = ("pending", "sending")
DELIVERY_LEASE = "delivery"


def pending_alerts(
    session: Session, now: datetime, limit: int, exclude: Sequence[str] = ()
) -> list[OutboxItem]:
    """Pending alerts due by `now`, oldest first, each with its post and highlighted terms.
    Channels in `exclude` are skipped (a digest channel between digests)."""
    stmt = _item_select().where(OUTBOX.c.status == "pending", OUTBOX.c.next_attempt_at <= now)
    if exclude:
        stmt = stmt.where(OUTBOX.c.channel_id.not_in(list(exclude)))
    return items(session, stmt.order_by(OUTBOX.c.id).limit(limit))


def channel_alerts(
    session: Session, channel_id: str, now: datetime, limit: int
) -> list[OutboxItem]:
    """A channel's pending alerts due by `now`, oldest first (for its digest)."""
    stmt = _item_select().where(
        OUTBOX.c.status == "pending",
        OUTBOX.c.channel_id == channel_id,
        OUTBOX.c.next_attempt_at <= now,
    )
    return items(session, stmt.order_by(OUTBOX.c.id).limit(limit))


def _item_select() -> sa.Select[Any]:
    return sa.select(
        OUTBOX.c.id.label("alert_id"),
        OUTBOX.c.channel_id,
        OUTBOX.c.topic_ids,
        OUTBOX.c.attempts,
        OUTBOX.c.created_at,
        OUTBOX.c.also_posted_by,
        OUTBOX.c.ambiguous,
        OUTBOX.c.strikes,
        POST,
    ).join(POST, POST.c.id == OUTBOX.c.post_pk)


def items(session: Session, stmt: sa.Select[Any]) -> list[OutboxItem]:
    return items_of(session, session.execute(stmt).all())


def items_of(session: Session, rows: Sequence[sa.Row[Any]]) -> list[OutboxItem]:
    """OutboxItems of rows selected with `_item_select()`, their matched terms read in bulk."""
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
        also_posted_by=tuple(row.also_posted_by or ()),
        ambiguous=row.ambiguous,
        strikes=row.strikes,
    )


def backlog(session: Session) -> dict[str, tuple[int, datetime]]:
    """channel id -> (alerts waiting, when the oldest was created), due or not."""
    stmt = (
        sa.select(OUTBOX.c.channel_id, sa.func.count(), sa.func.min(OUTBOX.c.created_at))
        .where(OUTBOX.c.status.in_(WAITING))
        .group_by(OUTBOX.c.channel_id)
    )
    return {channel: (count, oldest) for channel, count, oldest in session.execute(stmt)}


def claim(
    session: Session, alert_ids: Sequence[int], holder: str, now: datetime
) -> dict[int, tuple[str, ...]]:
    """Mark pending alerts `sending`, only while `holder` holds the delivery lease: a process
    that lost its lease (paused past expiry) cannot claim, so two never send the same alert.
    Returns each claimed alert's also-posted-by names as they are now: the message is rendered
    with these, and names recorded from now on leave an edit due (bot.store.edits)."""
    lease_held = (
        sa.select(LEASE.c.name)
        .where(LEASE.c.name == DELIVERY_LEASE, LEASE.c.holder == holder, LEASE.c.expires_at > now)
        .exists()
    )
    stmt = (
        sa.update(OUTBOX)
        .where(OUTBOX.c.id.in_(list(alert_ids)), OUTBOX.c.status == "pending", lease_held)
        .values(status="sending", sending_at=now)
        .returning(OUTBOX.c.id, OUTBOX.c.also_posted_by)
    )
    return {row.id: tuple(row.also_posted_by or ()) for row in session.execute(stmt)}


def mark_sent(
    session: Session,
    alert_ids: Sequence[int],
    sent: SentMessage,
    sent_at: datetime,
    *,
    delivered_as: str,
    created: Mapping[int, datetime] | None = None,
) -> None:
    """Record Telegram's answer, and each alert's latency: from its creation, which is when
    its post was first seen (one transaction stores both), to `sent_at`. `created` spares
    reading the creation times back. An edit requested while sending stays due, except for a
    digest, which is never edited."""
    if created is None:
        rows = session.execute(
            sa.select(OUTBOX.c.id, OUTBOX.c.created_at).where(OUTBOX.c.id.in_(list(alert_ids)))
        )
        created = {row.id: row.created_at for row in rows}
    values = {
        "status": "sent",
        "message_id": sent.message_id,
        "chat_id": sent.chat_number,
        "sent_at": sent_at,
        "status_changed_at": sent_at,
        "sending_at": None,
        "delivered_as": delivered_as,
    }
    if delivered_as == "digest":
        values["edit_due_at"] = None
    stmt = (
        sa.update(OUTBOX)
        .where(OUTBOX.c.id == sa.bindparam("alert_id"))
        .values(latency_ms=sa.bindparam("latency"), **values)
    )
    params = [
        {"alert_id": alert_id, "latency": max(0, round((sent_at - seen).total_seconds() * 1000))}
        for alert_id, seen in created.items()
    ]
    session.connection().execute(stmt, params)


def mark_retry(
    session: Session,
    alert_ids: int | Sequence[int],
    error: str,
    next_attempt_at: datetime,
    *,
    ambiguous: bool = False,
    strike: bool = False,
) -> None:
    """Count a failed attempt; the alert is pending again from `next_attempt_at`."""
    _update(
        session,
        alert_ids,
        status="pending",
        sending_at=None,
        attempts=OUTBOX.c.attempts + 1,
        ambiguous=OUTBOX.c.ambiguous + int(ambiguous),
        strikes=OUTBOX.c.strikes + int(strike),
        last_error=clip_error(error),
        next_attempt_at=next_attempt_at,
    )


def mark_failed(
    session: Session,
    alert_ids: int | Sequence[int],
    error: str,
    now: datetime,
    *,
    status: str = "failed",
) -> None:
    """A final outcome without a message: `failed`, or `uncertain` (maybe delivered)."""
    _update(
        session,
        alert_ids,
        status=status,
        sending_at=None,
        attempts=OUTBOX.c.attempts + 1,
        last_error=clip_error(error),
        status_changed_at=now,
    )


def _update(session: Session, alert_ids: int | Sequence[int], **values: Any) -> None:
    ids = [alert_ids] if isinstance(alert_ids, int) else list(alert_ids)
    for chunk in chunked(ids):
        session.execute(sa.update(OUTBOX).where(OUTBOX.c.id.in_(chunk)).values(**values))


def release(session: Session, alert_ids: Sequence[int]) -> None:
    """Put claimed alerts whose request never started back in line, uncounted."""
    for chunk in chunked(list(alert_ids)):
        session.execute(
            sa.update(OUTBOX)
            .where(OUTBOX.c.id.in_(chunk), OUTBOX.c.status == "sending")
            .values(status="pending", sending_at=None)
        )


def recover_sending(
    session: Session, now: datetime, max_strikes: int
) -> tuple[list[int], list[int]]:
    """After taking the lease over: alerts left `sending` by a process that died may or may not
    be on Telegram. They are resent (at least once beats never), each with a strike; one
    interrupted `max_strikes` times is failed instead, so a send that kills the process
    cannot loop forever. Returns (resent, failed) alert ids."""
    rows = session.execute(
        sa.select(OUTBOX.c.id, OUTBOX.c.strikes).where(OUTBOX.c.status == "sending")
    ).all()
    given_up = [row.id for row in rows if row.strikes + 1 >= max_strikes]
    resent = [row.id for row in rows if row.strikes + 1 < max_strikes]
    note = "interrupted while sending (the process stopped); sent again, may be a duplicate"
    mark_retry(session, resent, note, now, strike=True)
    mark_failed(session, given_up, f"interrupted while sending {max_strikes} times", now)
    return resent, given_up


def fail_waiting(session: Session, channel_id: str, error: str, now: datetime) -> int:
    """Fail every alert still waiting for a channel that takes no messages."""
    stmt = (
        sa.update(OUTBOX)
        .where(OUTBOX.c.channel_id == channel_id, OUTBOX.c.status.in_(WAITING))
        .values(
            status="failed", sending_at=None, last_error=clip_error(error), status_changed_at=now
        )
    )
    return cast(sa.CursorResult[Any], session.execute(stmt)).rowcount


def recent_sends(session: Session, since: datetime) -> list[tuple[str, datetime]]:
    """(channel id, sent_at) of the messages sent since `since`, oldest first; a digest's
    alerts share their message's time, so it counts once."""
    stmt = (
        sa.select(OUTBOX.c.channel_id, OUTBOX.c.sent_at)
        .where(OUTBOX.c.sent_at >= since)
        .distinct()
        .order_by(OUTBOX.c.sent_at)
    )
    return [(row.channel_id, row.sent_at) for row in session.execute(stmt)]


def outbox_counts(session: Session) -> dict[str, int]:
    """Alerts per status: pending, sent and failed always, sending and uncertain when any."""
    counts = dict.fromkeys(STATUSES, 0)
    stmt = sa.select(OUTBOX.c.status, sa.func.count()).group_by(OUTBOX.c.status)
    for status, count in session.execute(stmt):
        counts[status] = count
    return counts
