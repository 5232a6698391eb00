"""Shared fixtures: a migrated database on SQLite and, when configured, PostgreSQL.

PostgreSQL tests run when SPEAKUP_TEST_DATABASE_URL points at a server (CI sets it); each test
gets a database of its own, created and dropped around it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

PG_URL = os.environ.get("SPEAKUP_TEST_DATABASE_URL", "")
# Redis tests use database 14 under a key prefix of their own, removed after each test.
REDIS_URL = "redis://127.0.0.1:6379/14"
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not PG_URL, reason="PostgreSQL not configured (set SPEAKUP_TEST_DATABASE_URL)"
        ),
    ),
]


async def _fresh_postgres_database() -> tuple[str, str]:
    base = make_url(PG_URL).set(drivername="postgresql+asyncpg")
    name = f"speakup_t_{secrets.token_hex(6)}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False), name


async def _drop_postgres_database(name: str) -> None:
    admin = create_async_engine(
        make_url(PG_URL).set(drivername="postgresql+asyncpg"), isolation_level="AUTOCOMMIT"
    )
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'speakup.db'}"
        return
    url, name = await _fresh_postgres_database()
    try:
        yield url
    finally:
        await _drop_postgres_database(name)


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """An empty PostgreSQL database, for what only PostgreSQL does (SKIP LOCKED)."""
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (set SPEAKUP_TEST_DATABASE_URL)")
    url, name = await _fresh_postgres_database()
    try:
        yield url
    finally:
        await _drop_postgres_database(name)


@pytest.fixture
async def redis() -> AsyncIterator[tuple[Any, str]]:
    """A client of a Redis that is really running, and a key prefix of this test's own."""
    module = pytest.importorskip("redis.asyncio")
    client = module.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception:  # no Redis here: nothing to test against
        await client.aclose()
        pytest.skip(f"Redis is not running at {REDIS_URL}")
    prefix = f"speakup-test-{secrets.token_hex(6)}"
    yield client, prefix
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
def redis_prefix(redis: tuple[Any, str]) -> str:
    """A key prefix of this test's own in a Redis that is really running; removed afterwards."""
    return redis[1]
