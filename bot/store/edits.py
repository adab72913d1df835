"""Session-first queries for editing sent alerts: "Also posted by: …" added as a story spreads.

An edit is due when names were recorded after the alert's message went out. Telegram is asked
at most once a minute per alert (later names coalesce into the next edit), and never about a
message older than 24 hours: subscribers have moved on, and old messages are left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.model import EditItem
from bot.store.outbox import _item_select, items_of
from bot.store.tables import OUTBOX

EDIT_SPACING = timedelta(minutes=1)
EDIT_WINDOW = timedelta(hours=24)


def request_edit(
    session: Session, alert_id: int, also_posted_by: Sequence[str], now: datetime
) -> None:
    """Record more names for an alert (added to those it has, in order). A pending alert just
    shows them when it is sent; a sent one (or one on the wire now) gets an edit due."""
    row = session.execute(
        sa.select(
            OUTBOX.c.status,
            OUTBOX.c.also_posted_by,
            OUTBOX.c.sent_at,
            OUTBOX.c.edited_at,
            OUTBOX.c.edit_due_at,
            OUTBOX.c.delivered_as,
        )
        .where(OUTBOX.c.id == alert_id)
        .with_for_update()
    ).one_or_none()
    if row is None:
        return
    names = list(dict.fromkeys([*(row.also_posted_by or ()), *also_posted_by]))
    values: dict[str, Any] = {"also_posted_by": names}
    if names != list(row.also_posted_by or ()) and _editable(row, now):
        earliest = row.edited_at + EDIT_SPACING if row.edited_at else now
        values["edit_due_at"] = row.edit_due_at or max(now, earliest)
    session.execute(sa.update(OUTBOX).where(OUTBOX.c.id == alert_id).values(**values))


def _editable(row: Any, now: datetime) -> bool:
    if row.status == "sending":
        return True  # the message on the wire may have been rendered without the new names
    if row.status != "sent" or row.delivered_as == "digest":
        return False  # not sent yet (it will show them), or summarised in a digest
    return row.sent_at is not None and now - row.sent_at <= EDIT_WINDOW


def due_edits(session: Session, now: datetime, limit: int) -> list[EditItem]:
    """Sent alerts whose edit is due, oldest due first. Edits of messages older than 24h are
    dropped here instead."""
    session.execute(
        sa.update(OUTBOX)
        .where(OUTBOX.c.edit_due_at.is_not(None), OUTBOX.c.sent_at < now - EDIT_WINDOW)
        .values(edit_due_at=None)
    )
    stmt = (
        _item_select()
        .add_columns(
            OUTBOX.c.chat_id.label("sent_chat"),
            OUTBOX.c.message_id,
            OUTBOX.c.delivered_as,
            OUTBOX.c.sent_at,
        )
        .where(
            OUTBOX.c.edit_due_at <= now,
            OUTBOX.c.status == "sent",
            OUTBOX.c.message_id.is_not(None),
            OUTBOX.c.chat_id.is_not(None),
        )
        .order_by(OUTBOX.c.edit_due_at, OUTBOX.c.id)
        .limit(limit)
    )
    rows = session.execute(stmt).all()
    return [
        EditItem(
            item=item,
            chat_number=row.sent_chat,
            message_id=row.message_id,
            caption=row.delivered_as == "photo",
            sent_at=row.sent_at,
        )
        for item, row in zip(items_of(session, rows), rows, strict=True)
    ]


def mark_edited(session: Session, alert_id: int, shown: Sequence[str], now: datetime) -> None:
    """The message now shows `shown`; names recorded meanwhile are due a minute later."""
    current = session.execute(
        sa.select(OUTBOX.c.also_posted_by).where(OUTBOX.c.id == alert_id)
    ).scalar_one_or_none()
    stale = list(current or ()) != list(shown)
    session.execute(
        sa.update(OUTBOX)
        .where(OUTBOX.c.id == alert_id)
        .values(edited_at=now, edit_due_at=now + EDIT_SPACING if stale else None)
    )


def defer_edit(session: Session, alert_id: int, until: datetime | None) -> None:
    """Try the edit again at `until`; None drops it (the message is gone or cannot change)."""
    session.execute(sa.update(OUTBOX).where(OUTBOX.c.id == alert_id).values(edit_due_at=until))
