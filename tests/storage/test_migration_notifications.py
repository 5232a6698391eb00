"""Stairway over revision 0003: upgrade → downgrade to 0001 → upgrade again."""

from __future__ import annotations

from sqlalchemy import inspect

from storage.db import downgrade, make_engine, migrate


async def test_0003_upgrades_downgrades_and_upgrades_again(database_url: str) -> None:
    engine = make_engine(database_url)

    async def tables() -> set[str]:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))

    await migrate(engine)
    assert {"officer_chats", "alert_outbox", "alert_link_codes"} <= await tables()
    await downgrade(engine, "0001")
    assert "alert_outbox" not in await tables()
    await migrate(engine)
    assert "alert_outbox" in await tables()
    async with engine.connect() as conn:
        columns = await conn.run_sync(
            lambda c: {x["name"] for x in inspect(c).get_columns("cases")}
        )
    assert "closed_on" in columns
    await engine.dispose()
