"""P6 under load: audited actions racing each other never fork the hash chain.

On SQLite a transaction that only reads holds no lock, so two appenders used to read the same
newest row and both chain from it ("link to previous row broken" on verify), or — for the same
officer viewing the same case in the same second — write the same hash (a UNIQUE violation).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Coroutine
from typing import Any

from sqlalchemy import func, select

from cases.casework import TriageDecision
from cases.categories import Routing
from cases.errors import NotFound
from cases.stats import StatsService
from storage.models import AuditRow
from tests.cases.audit_writer import append
from tests.factories import build_site

ROUNDS = 8


async def _rows(site: object) -> int:
    async with site.engine.connect() as conn:  # type: ignore[attr-defined]
        return int(await conn.scalar(select(func.count()).select_from(AuditRow)) or 0)


async def test_racing_views_and_logins_keep_one_chain(database_url: str) -> None:
    site = await build_site(database_url)
    _, submitted = await site.file_report()
    ref = submitted.reference
    triage = await site.login("triage1")
    await site.casework.triage(triage, ref, TriageDecision(routing=Routing.JOINT))
    union, disc = await site.login("union1"), await site.login("disc1")
    overseer, stats = await site.login("overseer1"), StatsService(site.uow)  # type: ignore[arg-type]
    before = await _rows(site)

    # Given two officers opening one case at once, the same officer many times in one second
    # (identical audit fields), while others log in and read statistics...
    calls: list[Coroutine[Any, Any, object]] = [
        site.casework.open_case(union, ref) for _ in range(ROUNDS)
    ]
    calls += [site.casework.open_case(disc, ref) for _ in range(ROUNDS)]
    calls += [stats.statistics(overseer) for _ in range(ROUNDS)]
    calls += [site.login("admin1"), site.login("triage1")]
    results = await asyncio.gather(*calls, return_exceptions=True)

    # ...then every action succeeded, each wrote its row, and the chain verifies.
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert await _rows(site) == before + len(calls)
    verification = await site.audit.verify()
    assert verification.ok, verification
    await site.engine.dispose()


async def test_many_refused_lookups_at_once_are_all_recorded(database_url: str) -> None:
    # Given a union officer probing a discipline case from more requests than the connection
    # pool holds (each refusal writes its own audit row)...
    site = await build_site(database_url)
    _, submitted = await site.file_report()
    triage = await site.login("triage1")
    await site.casework.triage(triage, submitted.reference, TriageDecision(Routing.DISCIPLINE))
    union = await site.login("union1")
    probes = [site.casework.open_case(union, submitted.reference) for _ in range(3 * ROUNDS)]
    results = await asyncio.wait_for(asyncio.gather(*probes, return_exceptions=True), 25)

    # ...then each is a plain NotFound, each left a case_denied row, and the chain holds.
    assert {type(r) for r in results} == {NotFound}
    async with site.engine.connect() as conn:
        denied = await conn.scalar(
            select(func.count()).select_from(AuditRow).where(AuditRow.action == "case_denied")
        )
    assert denied == len(probes)
    assert (await site.audit.verify()).ok
    await site.engine.dispose()


def _writer(database_url: str, count: int) -> subprocess.Popen[str]:
    env = {**os.environ, "SPEAKUP_DATABASE_URL": database_url}
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tests.cases.audit_writer", str(count)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_appenders_in_other_processes_keep_one_chain(database_url: str) -> None:
    # Given the API process and two others (a bot, a second API worker) appending at once...
    site = await build_site(database_url, officers=False)
    before = await _rows(site)
    writers = [_writer(database_url, 25) for _ in range(2)]
    here = [append(database_url, 5, f"here{i}") for i in range(4)]
    await asyncio.gather(*here)
    outcomes = [await asyncio.to_thread(w.communicate, timeout=90) for w in writers]

    # ...then every append landed and the chain is still one chain.
    assert [w.returncode for w in writers] == [0, 0], outcomes
    assert await _rows(site) == before + 2 * 25 + 4 * 5
    verification = await site.audit.verify()
    assert verification.ok, verification
    await site.engine.dispose()
