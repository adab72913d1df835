"""Session-first queries for flood holds: the time before which nothing may be sent, to one
chat or (scope ALL_CHATS) to any, because Telegram answered 429 with retry_after."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.store.queries import dialect_insert
from bot.store.tables import FLOOD_HOLD

ALL_CHATS = "*"


def hold(session: Session, scopes: Iterable[str], until: datetime) -> None:
    """Nothing goes to `scopes` before `until`; a later hold already stored is kept."""
    for scope in scopes:
        insert = dialect_insert(session, FLOOD_HOLD).values(scope=scope, until=until)
        session.execute(
            insert.on_conflict_do_update(
                index_elements=["scope"],
                set_={"until": until},
                where=FLOOD_HOLD.c.until < until,
            )
        )


def active(session: Session, now: datetime) -> dict[str, datetime]:
    """scope -> until, for the holds not yet over at `now`."""
    rows = session.execute(
        sa.select(FLOOD_HOLD.c.scope, FLOOD_HOLD.c.until).where(FLOOD_HOLD.c.until > now)
    )
    return {row.scope: row.until for row in rows}
