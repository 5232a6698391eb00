"""GET /api/v1/stats over HTTP: overseer only, suppressed cells as null, a monthly snapshot."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

import httpx
import pytest

from admin_api.app import create_app
from cases.intake import Draft
from cases.stats import StatsService
from storage.crypto.receipts import new_receipt
from tests.admin_api.conftest import Api
from tests.factories import REPORT_TEXT, SetClock, build_site

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class StatsApi:
    api: Api
    clock: SetClock  # the statistics service's clock


@pytest.fixture
async def stats_api(database_url: str) -> AsyncIterator[StatsApi]:
    """The admin API whose statistics read a clock the test sets."""
    site = await build_site(database_url)
    clock = SetClock(dt.datetime.now(dt.UTC))
    stats = StatsService(site.uow, clock=clock)  # type: ignore[arg-type]
    app = create_app(replace(site.api_services(), stats=stats))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://admin.test") as client:
        yield StatsApi(Api(site, client, app.state), clock)
    await site.engine.dispose()


def _beijing(at: str) -> dt.datetime:
    return dt.datetime.fromisoformat(at).replace(tzinfo=SHANGHAI).astimezone(dt.UTC)


async def test_overseer_reads_suppressed_statistics(stats_api: StatsApi) -> None:
    api = stats_api.api
    for category in ["wages"] * 6 + ["bribery"] * 2:
        await api.site.file_report(category=category)
    # Next month, this month's reports are in the snapshot.
    stats_api.clock.at = dt.datetime.now(dt.UTC).replace(day=15) + dt.timedelta(days=31)
    overseer = api.bearer(await api.token("overseer1"))
    response = await api.client.get("/api/v1/stats", headers=overseer)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["k"] == 5
    assert body["as_of"] == stats_api.clock.at.date().replace(day=1).isoformat()
    assert body["total"] == 8
    assert body["by_category"]["wages"] is None  # the complement of bribery's 2
    assert body["by_category"]["bribery"] is None
    assert body["by_status"]["received"] == 8
    assert body["closed_within_deadline_share"] is None
    admin = api.bearer(await api.token("admin1"))
    refused = await api.client.get("/api/v1/stats", headers=admin)
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"


async def test_attack_two_polls_around_a_new_report_read_the_same(stats_api: StatsApi) -> None:
    """Given October's reports (bribery 0, safety 5, wages 5), when a bribery report arrives
    mid-November between two polls, then both responses are byte for byte the same."""
    api, intake_clock = stats_api.api, SetClock(_beijing("2026-10-12 09:00"))
    intake = api.site.intake_at(intake_clock)
    for day, category in enumerate(["safety"] * 5 + ["wages"] * 5, start=10):
        intake_clock.at = _beijing(f"2026-10-{day} 15:00")
        await intake.submit(Draft(category=category, text=REPORT_TEXT), new_receipt())
    overseer = api.bearer(await api.token("overseer1"))
    stats_api.clock.at = _beijing("2026-11-14 10:00")
    before = await api.client.get("/api/v1/stats", headers=overseer)
    assert before.status_code == 200, before.text
    body = before.json()
    assert body["as_of"] == "2026-11-01"
    assert body["total"] == 10
    assert body["by_category"]["bribery"] == 0
    assert (body["by_category"]["safety"], body["by_category"]["wages"]) == (5, 5)

    intake_clock.at = _beijing("2026-11-14 10:05")
    await intake.submit(Draft(category="bribery", text=REPORT_TEXT), new_receipt())
    stats_api.clock.at = _beijing("2026-11-14 10:10")
    after = await api.client.get("/api/v1/stats", headers=overseer)
    assert after.status_code == 200, after.text
    assert after.content == before.content
