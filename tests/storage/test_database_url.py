"""SPEAKUP_DATABASE_URL as operators write it, and telling an initialised database apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from cases.runtime import KdfPool
from cases.setup import SetupService
from storage.db import (
    is_initialised,
    make_engine,
    make_sessionmaker,
    migrate,
    normalise_url,
    sqlite_file,
)
from storage.repos_notify import SqlNotifyUnitOfWork
from tests.factories import TEST_COST


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p@db/speakup", "postgresql+asyncpg://u:p@db/speakup"),
        ("postgres://u@db:5433/speakup", "postgresql+asyncpg://u@db:5433/speakup"),
        ("postgresql+asyncpg://u@db/speakup", "postgresql+asyncpg://u@db/speakup"),
        (
            "sqlite:////var/lib/speakup/speakup.db",
            "sqlite+aiosqlite:////var/lib/speakup/speakup.db",
        ),
        ("postgresql://u:p%40ss%2Fw@db/s", "postgresql+asyncpg://u:p%40ss%2Fw@db/s"),
    ],
)
def test_urls_get_the_installed_async_driver(given: str, used: str) -> None:
    assert normalise_url(given) == used


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("mysql://u:secret@db/x", "'mysql' is not supported"),
        ("garbage", "not a database URL"),
        ("postgresql+psycopg://u:secret@db/x", "'psycopg' cannot be used"),
        ("sqlite+pysqlite:///x.db", "write sqlite+aiosqlite://"),
    ],
)
def test_unusable_urls_are_refused_without_repeating_them(given: str, reason: str) -> None:
    with pytest.raises(ValueError, match="^") as refused:
        normalise_url(given)
    assert reason in str(refused.value)
    assert "secret" not in str(refused.value)


def test_the_sqlite_file_of_a_url() -> None:
    assert sqlite_file("sqlite+aiosqlite:////srv/speakup.db") == Path("/srv/speakup.db")
    assert sqlite_file("sqlite+aiosqlite://") is None
    assert sqlite_file("postgresql+asyncpg://db/speakup") is None


async def test_only_a_database_with_a_site_is_initialised(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert not await is_initialised(engine)  # empty
        await migrate(engine)
        assert not await is_initialised(engine)  # tables, but init never finished
        sessionmaker = make_sessionmaker(engine)
        setup = SetupService(lambda: SqlNotifyUnitOfWork(sessionmaker), KdfPool(1), TEST_COST)
        await setup.initialize()
        assert await is_initialised(engine)
    finally:
        await engine.dispose()
