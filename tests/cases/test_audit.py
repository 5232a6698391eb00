"""P6: the audit chain detects an edited or deleted row, via the service and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import delete, select, update

from storage.models import AuditRow
from tests.factories import build_site


async def _ids(site: object) -> list[int]:
    async with site.engine.connect() as conn:  # type: ignore[attr-defined]
        return list(await conn.scalars(select(AuditRow.id).order_by(AuditRow.id)))


def _cli_verify(database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SPEAKUP_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "audit", "verify"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("tamper", ["edit", "delete"])
async def test_verify_names_the_first_broken_row(database_url: str, tamper: str) -> None:
    site = await build_site(database_url)
    await site.login("union1")
    admin = await site.login("admin1")
    assert (await site.audit.verify()).ok
    assert _cli_verify(database_url).returncode == 0
    ids = await _ids(site)
    victim = ids[len(ids) // 2]
    async with site.engine.begin() as conn:
        if tamper == "edit":
            await conn.execute(
                update(AuditRow).where(AuditRow.id == victim).values(detail="nothing happened")
            )
        else:
            await conn.execute(delete(AuditRow).where(AuditRow.id == victim))
    result = await site.audit.verify()
    expected = victim if tamper == "edit" else ids[ids.index(victim) + 1]
    assert not result.ok
    assert result.first_broken_id == expected
    cli = _cli_verify(database_url)
    assert cli.returncode == 1
    assert f"row {expected}" in cli.stdout
    assert len(await site.audit.page(admin, 5, 0)) == 5
    await site.engine.dispose()
