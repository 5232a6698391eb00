"""Revision 0006 on a database in use: officers who already enrolled an authenticator count as
activated (their grants stay); accounts nobody has logged into yet must activate."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from storage.db import downgrade, make_engine, migrate

CREATED = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


async def test_0006_marks_enrolled_officers_activated_and_others_not(database_url: str) -> None:
    engine = make_engine(database_url)
    await migrate(engine, "0005")
    insert = text(
        "INSERT INTO officers (id, username, role, public_key, kdf_salt, kdf_memory_kib, "
        "kdf_iterations, kdf_lanes, verifier, wrapped_private_key, disabled, created_at, "
        "totp_wrapped) VALUES (:id, :name, 'union', :b, :b, 64, 1, 1, :b, :b, false, :at, :totp)"
    )
    async with engine.begin() as conn:
        for officer_id, name, totp in (("a" * 32, "in_use", b"sealed"), ("b" * 32, "new", None)):
            await conn.execute(
                insert, {"id": officer_id, "name": name, "b": b"x", "at": CREATED, "totp": totp}
            )
    await migrate(engine)
    async with engine.connect() as conn:
        result = await conn.execute(text("SELECT username, activated_at FROM officers"))
        rows = {username: activated_at for username, activated_at in result}
    assert rows["new"] is None
    assert rows["in_use"] is not None
    await downgrade(engine, "0005")
    await migrate(engine)
    await engine.dispose()
