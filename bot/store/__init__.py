"""Persistence: SQLModel tables over SQLite (default) or PostgreSQL, Alembic migrations at start.

Only `Store` leaves this package; it takes and returns the plain values in `bot.model`.

    store = Store.open("sqlite:///data/postwatch.db")   # or postgresql+psycopg://user:pw@host/db
"""

from __future__ import annotations

from bot.store.database import Store

__all__ = ["Store"]
