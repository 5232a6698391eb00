"""Engine, sessions and migrations. The app migrates with Alembic; it never calls create_all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS = Path(__file__).parent / "migrations"
# The async driver for each supported database, as installed with the product.
_DRIVERS = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}
_DRIVERS |= {"sqlite": "sqlite+aiosqlite"}
_EXAMPLES = "postgresql://user:password@host/database or sqlite:///path/to/speakup.db"


class DatabaseUnavailable(Exception):
    """The database did not answer or refused the connection. The message names the server
    and the reason, never the password."""


def normalise_url(url: str) -> str:
    """`url` with the async driver SpeakUp uses (postgresql:// → postgresql+asyncpg://);
    ValueError saying what is wrong, without repeating the URL (it may hold a password)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"not a database URL; expected {_EXAMPLES}") from None
    scheme, _, driver = parsed.drivername.partition("+")
    wanted = _DRIVERS.get(scheme)
    if wanted is None:
        raise ValueError(f"{scheme!r} is not supported; use PostgreSQL or SQLite: {_EXAMPLES}")
    if driver and f"{scheme}+{driver}" != wanted:
        raise ValueError(f"the driver {driver!r} cannot be used: write {wanted}:// or {scheme}://")
    return parsed.set(drivername=wanted).render_as_string(hide_password=False)


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL (None for other databases and in-memory SQLite)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _describe(engine: AsyncEngine, exc: BaseException) -> str:
    where = engine.url.render_as_string(hide_password=True)
    reason = getattr(exc, "orig", None) or exc
    detail = str(reason).strip().splitlines()[0] if str(reason).strip() else ""
    return f"cannot use the database {where}: {type(reason).__name__}" + (
        f": {detail}" if detail else ""
    )


async def check_connection(engine: AsyncEngine) -> None:
    """Connect once, or DatabaseUnavailable saying why (unknown host, refused, password)."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (OSError, SQLAlchemyError) as exc:  # socket errors are not always wrapped
        raise DatabaseUnavailable(_describe(engine, exc)) from exc


async def is_initialised(engine: AsyncEngine) -> bool:
    """Whether `speakup init` completed here: the site row exists (not just the tables)."""
    async with engine.connect() as conn:
        if not await conn.run_sync(lambda sync: inspect(sync).has_table("site")):
            return False
        return (await conn.execute(text("SELECT 1 FROM site"))).first() is not None


def make_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys enforced and a busy timeout."""
    if url.startswith("sqlite"):
        # `timeout` is SQLite's busy timeout: a writer waits up to 30 s for another connection's
        # write lock (audit appends queue on it, see `SqlAuditRepository`) instead of failing.
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (services return DTOs built after)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    """Alembic configuration pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _downgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema up to `revision`."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Take the schema down to `revision` (used by the migration stairway test)."""
    async with engine.begin() as conn:
        await conn.run_sync(_downgrade, revision)
