"""Persistence: SQLModel tables over SQLite (default) or PostgreSQL, Alembic migrations at start.

The only package that knows SQL. `bot.store.database.Store` is its one door: it takes and
returns the plain values of `bot.model`; table classes never leave the package.

    with Store.open("sqlite:///data/postwatch.db") as store:   # or postgresql+psycopg://...
        ...

May import: bot.model, bot.errors, bot.stories (the pure story decision it applies inside the
poll's transaction).
"""
