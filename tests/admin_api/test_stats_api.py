"""GET /api/v1/stats over HTTP: overseer only, suppressed cells as null."""

from __future__ import annotations

from tests.admin_api.conftest import Api


async def test_overseer_reads_suppressed_statistics(api: Api) -> None:
    for category in ["wages"] * 6 + ["bribery"] * 2:
        await api.site.file_report(category=category)
    overseer = api.bearer(await api.token("overseer1"))
    response = await api.client.get("/api/v1/stats", headers=overseer)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["k"] == 5
    assert body["total"] == 8
    assert body["by_category"]["wages"] is None  # the complement of bribery's 2
    assert body["by_category"]["bribery"] is None
    assert body["by_status"]["received"] == 8
    assert body["closed_within_deadline_share"] is None
    admin = api.bearer(await api.token("admin1"))
    refused = await api.client.get("/api/v1/stats", headers=admin)
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
