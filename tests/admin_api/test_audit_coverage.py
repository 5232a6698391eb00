"""P6 over HTTP: the officer actions that used to leave no trace now append an audit row —
listings, probes of other queues' cases, reading the log, alert links — and none of those rows
holds report content or a Telegram chat id. Racing views keep the chain whole."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import select

from cases.casework import TriageDecision
from cases.categories import Routing
from storage.models import AuditRow, Officer
from tests.admin_api.conftest import Api
from tests.factories import REPORT_TEXT

OFFICER_CHAT = 4_242_424_242


@dataclass(frozen=True)
class Row:
    officer: str | None
    action: str
    case_reference: str | None
    detail: str


async def _rows(api: Api) -> list[Row]:
    async with api.site.engine.connect() as conn:
        names = dict((await conn.execute(select(Officer.id, Officer.username))).all())
        rows = await conn.execute(
            select(
                AuditRow.officer_id, AuditRow.action, AuditRow.case_reference, AuditRow.detail
            ).order_by(AuditRow.id)
        )
        return [Row(names.get(o) if o else None, a, c, d) for o, a, c, d in rows]


async def _routed_case(api: Api, routing: Routing) -> str:
    _, submitted = await api.site.file_report()
    triage = await api.site.login("triage1")
    await api.site.casework.triage(triage, submitted.reference, TriageDecision(routing=routing))
    return submitted.reference


async def test_listings_probes_and_log_reads_are_audited(api: Api) -> None:
    discipline_case = await _routed_case(api, Routing.DISCIPLINE)
    union = api.bearer(await api.token("union1"))
    admin = api.bearer(await api.token("admin1"))
    overseer = api.bearer(await api.token("overseer1"))
    calls = [
        (union, "/api/v1/cases", Row("union1", "cases_listed", None, "0 rows")),
        (union, "/api/v1/cases?queue=discipline", Row("union1", "cases_listed", None, "0 rows")),
        # A union officer probing a discipline case: 404 like any unknown case, but recorded
        # with the reference asked for — the same row whether or not the case exists.
        (
            union,
            f"/api/v1/cases/{discipline_case}",
            Row("union1", "case_denied", discipline_case, ""),
        ),
        (union, "/api/v1/cases/zzzz-9999", Row("union1", "case_denied", "ZZZZ-9999", "")),
        (union, "/api/v1/cases/not-a-ref", Row("union1", "case_denied", None, "")),
        (
            union,
            f"/api/v1/cases/{discipline_case}/attachments",
            Row("union1", "case_denied", discipline_case, ""),
        ),
        (admin, "/api/v1/officers", Row("admin1", "officers_listed", None, "5 rows")),
        (
            union,
            "/api/v1/queues/union/members",
            Row("union1", "members_listed", None, "union: 1 rows"),
        ),
        (overseer, "/api/v1/audit?limit=3", Row("overseer1", "audit_viewed", None, "3 rows")),
        (overseer, "/api/v1/audit/verify", Row("overseer1", "audit_verified", None, "")),
    ]
    for headers, path, expected in calls:
        response = await api.client.get(path, headers=headers)
        assert response.status_code in (200, 404), (path, response.text)
        newest = (await _rows(api))[-1]
        if expected.action == "audit_verified":
            assert newest.detail.startswith("ok, "), newest
            newest = Row(newest.officer, newest.action, newest.case_reference, "")
        assert newest == expected, path

    # A probe through a workflow route is recorded too, and changes nothing.
    probe = await api.client.post(
        f"/api/v1/cases/{discipline_case}/notes", json={"text": "x"}, headers=union
    )
    assert probe.status_code == 404
    assert (await _rows(api))[-1] == Row("union1", "case_denied", discipline_case, "")
    verify = await api.client.get("/api/v1/audit/verify", headers=overseer)
    assert verify.json()["ok"] is True


async def test_alert_links_are_audited_without_the_chat(api: Api) -> None:
    # Given a stolen union session: the thief asks for a link code and links their own chat.
    stolen = api.bearer(await api.token("union1"))
    issued = await api.client.post("/api/v1/alerts/link-code", headers=stolen)
    assert issued.status_code == 200
    assert (await _rows(api))[-1] == Row("union1", "alert_code_issued", None, "")
    links = api.app_state.services.alert_links  # type: ignore[attr-defined]
    assert (await links.link(issued.json()["code"], OFFICER_CHAT, "en")).value == "linked"
    # Then the redirect of union1's alerts is on the record, naming the officer only.
    assert (await _rows(api))[-1] == Row("union1", "alert_chat_linked", None, "")
    unlinked = await api.client.delete("/api/v1/alerts/link", headers=stolen)
    assert unlinked.status_code == 204
    assert (await _rows(api))[-1] == Row("union1", "alert_chat_unlinked", None, "")

    code = issued.json()["code"]
    for row in await _rows(api):
        text = f"{row.case_reference} {row.detail}"
        assert str(OFFICER_CHAT) not in text
        assert code not in text
        assert code.replace("-", "") not in text


async def test_racing_identical_views_over_http_get_no_500(api: Api) -> None:
    ref = await _routed_case(api, Routing.UNION)
    union = api.bearer(await api.token("union1"))
    admin = api.bearer(await api.token("admin1"))
    requests = [api.client.get(f"/api/v1/cases/{ref}", headers=union) for _ in range(8)]
    requests += [api.client.get("/api/v1/cases", headers=union) for _ in range(4)]
    requests += [api.client.get("/api/v1/officers", headers=admin) for _ in range(4)]
    responses = await asyncio.gather(*requests)
    assert [r.status_code for r in responses] == [200] * len(requests)
    verify = await api.client.get("/api/v1/audit/verify", headers=admin)
    assert verify.json()["ok"] is True, verify.json()
    for row in await _rows(api):
        assert REPORT_TEXT[:6] not in row.detail
