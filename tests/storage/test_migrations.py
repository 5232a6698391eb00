"""Alembic stairway: every revision upgrades, downgrades and upgrades again, on each backend."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from storage.db import alembic_config, downgrade, make_engine, migrate
from storage.tables import metadata


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


async def _tables(engine: object) -> set[str]:
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        names: set[str] = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    return names - {"alembic_version"}


async def test_stairway_up_down_up(database_url: str) -> None:
    engine = make_engine(database_url)
    previous = "base"
    for revision in _revisions():
        await migrate(engine, revision)
        await downgrade(engine, previous)
        await migrate(engine, revision)
        previous = revision
    assert await _tables(engine) == set(metadata.tables)
    await downgrade(engine, "base")
    assert await _tables(engine) == set()
    await engine.dispose()


def test_single_head() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1


async def test_migrations_match_the_models(database_url: str) -> None:
    """The schema the migrations build is the schema the models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(database_url)
    await migrate(engine)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )
    await engine.dispose()
    assert diff == []
