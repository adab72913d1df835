"""Session-first queries for leases: a row naming the one process allowed to do something for
this database (deliver alerts), until `expires_at`. The holder renews it well before then; a
holder that stops renewing (crashed, hung, partitioned) loses it at expiry, or at once when the
claimant can tell it is dead (`is_dead`, see bot.deliver.holder).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.model import Lease
from bot.store.queries import dialect_insert
from bot.store.tables import LEASE


def acquire(
    session: Session,
    name: str,
    holder: str,
    now: datetime,
    *,
    ttl: timedelta,
    is_dead: Callable[[str], bool],
) -> Lease:
    """Take or renew the lease `name` for `holder` until now + ttl, if it is free, expired,
    ours, or held by a holder known dead. A compare-and-set on the holder, so two claimants
    racing for an expired lease cannot both win."""
    expires_at = now + ttl
    # RETURNING, not rowcount: psycopg reports -1 rows for INSERT ... ON CONFLICT.
    inserted = session.execute(
        dialect_insert(session, LEASE)
        .values(name=name, holder=holder, acquired_at=now, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(LEASE.c.name)
    ).first()
    if inserted is not None:
        return Lease(held=True, holder=holder, expires_at=expires_at)
    row = session.execute(sa.select(LEASE).where(LEASE.c.name == name)).one()
    ours = row.holder == holder
    if not (ours or row.expires_at <= now or is_dead(row.holder)):
        return Lease(held=False, holder=row.holder, expires_at=row.expires_at)
    values = {"holder": holder, "expires_at": expires_at}
    if not ours:
        values["acquired_at"] = now
    won = _rows(
        session.execute(
            sa.update(LEASE)
            .where(LEASE.c.name == name, LEASE.c.holder == row.holder)
            .values(**values)
        )
    )
    if not won:  # another claimant got there first
        current = session.execute(sa.select(LEASE).where(LEASE.c.name == name)).one()
        return Lease(held=False, holder=current.holder, expires_at=current.expires_at)
    return Lease(
        held=True, holder=holder, expires_at=expires_at, previous=None if ours else row.holder
    )


def release(session: Session, name: str, holder: str, now: datetime) -> None:
    """Give the lease up (a clean stop): the next process need not wait for it to expire."""
    session.execute(
        sa.update(LEASE)
        .where(LEASE.c.name == name, LEASE.c.holder == holder)
        .values(expires_at=now)
    )


def _rows(result: sa.Result[Any]) -> int:
    """Rows an INSERT/UPDATE touched (a DML result is always a CursorResult)."""
    return cast(sa.CursorResult[Any], result).rowcount
