"""Shared fixtures: one database URL and one Store per backend, real SQLite and real PostgreSQL.

PostgreSQL runs when POSTWATCH_TEST_PG_URL is set (for example
postgresql+psycopg://postgres@127.0.0.1:5432/test); each test gets its own fresh schema, dropped
afterwards, so tests never see each other's rows. CI must set it: there a missing URL fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.store.database import Store

# Fixtures of the fake servers (fake_telegram, feed_server) for every test module.
pytest_plugins = ("fakes.telegram_api", "fakes.feed_server")

PG_ENV = "POSTWATCH_TEST_PG_URL"


def _pg_base_url() -> str:
    url = os.environ.get(PG_ENV)
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(f"{PG_ENV} is not set: CI must run the PostgreSQL tests", pytrace=False)
    pytest.skip(f"PostgreSQL not configured: set {PG_ENV}=postgresql+psycopg://user@host/db")


@contextmanager
def _pg_schema(base_url: str) -> Iterator[str]:
    """A URL whose connections see only a new, empty schema (dropped on exit)."""
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(base_url, poolclass=sa.pool.NullPool)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        url = sa.make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of a fresh, empty database (not yet migrated), one per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'postwatch.db'}"
        return
    with _pg_schema(_pg_base_url()) as url:
        yield url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated Store on a fresh database, one per backend."""
    opened = Store.open(db_url)
    try:
        yield opened
    finally:
        opened.close()
