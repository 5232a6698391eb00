"""Done means (issue 4): the five officer roles each do their whole job over HTTP against the
running API — triage, the closed loop with a failed look-back, a clue transfer, statistics,
account management and audit verification — while the reporter hears each reporter-visible
step in the chat. On each database."""

from __future__ import annotations

import datetime as dt

import pyotp

from bot.devtools.scripted import OfficerClient, ScriptedReporter
from tests.e2e.conftest import Stack
from tests.factories import INITIAL_PASSWORD, PASSWORD

CONCERN = "车间夜班连续三个月加班不给加班费，班组长还说谁反映就调岗。"


async def _hears(reporter: ScriptedReporter, mark: int, status_key: str, text: str) -> None:
    """The reporter's chat gets the reporter-visible status and the officer's words."""
    status = reporter.t(status_key)
    message = await reporter.expect(lambda e: status in e.text and text in e.text, mark)
    assert message.text


async def _expect_status(officer: OfficerClient, path: str, status: int) -> None:
    response = await officer.http.get(f"/api/v1{path}")
    assert response.status_code == status, (path, response.text)


async def test_five_roles_do_their_whole_job(stack: Stack) -> None:
    reporter = stack.reporter(770501)
    filed = await reporter.file_report("rights", "overtime_leave", [CONCERN])
    ref = filed.reference

    # Triage officer: the new case is listed with its triage due date, read, and routed.
    triage = await stack.officer("triage1")
    [row] = await triage.cases(status="received")
    assert row["reference"] == ref
    assert (await triage.case(ref))["report"] == CONCERN
    mark = reporter.mark()
    await triage.triage(ref, routing="union", severity="high", note="已转工会办理")
    await _hears(reporter, mark, "reporter_status.accepted", "已转工会办理")

    # Union officer: takes the case on and decides a disposition.
    union = await stack.officer("union1")
    mark = reporter.mark()
    await union.set_status(ref, "in_progress", "正在核实加班记录")
    await _hears(reporter, mark, "reporter_status.in_progress", "正在核实加班记录")
    await union.post(f"/cases/{ref}/disposition", {"disposition": "formal_talk_rectification"})
    await union.post(f"/cases/{ref}/notes", {"text": "仅内部：班组长涉嫌打击报复"})

    # Clue transfer: the retaliation part is for discipline inspection.
    discipline = await stack.officer("disc1")
    await _expect_status(discipline, f"/cases/{ref}", 404)
    sent = await union.post(
        "/transfers",
        {"reference": ref, "to_queue": "discipline", "feedback": "涉及打击报复举报人，请纪检处置"},
    )
    [incoming] = await discipline.get("/transfers", direction="incoming", status="pending")
    assert incoming["id"] == sent["id"]
    assert incoming["feedback"] == "涉及打击报复举报人，请纪检处置"
    assert not incoming["overdue"]
    await _expect_status(discipline, f"/cases/{ref}", 404)  # not before accepting
    accepted = await discipline.post(f"/transfers/{sent['id']}/accept")
    assert accepted["status"] == "accepted"
    opened = await discipline.case(ref)
    assert opened["report"] == CONCERN
    assert opened["case"]["holders"] == ["discipline", "union"]
    await discipline.post(f"/cases/{ref}/notes", {"text": "纪检已立项初步核实打击报复线索"})

    # Union officer: rectification → look-back failed → rectification → look-back passed.
    due = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)).isoformat()
    mark = reporter.mark()
    body = {"owner_unit": "二车间", "due_on": due, "note": "已约谈车间负责人，限期补发加班费"}
    await union.post(f"/cases/{ref}/rectification", body)
    await _hears(reporter, mark, "reporter_status.rectifying", "限期补发加班费")
    await union.set_status(ref, "look_back", None)
    mark = reporter.mark()
    failed = await union.post(
        f"/cases/{ref}/look-back", {"passed": False, "note": "回头看：仍有欠付"}
    )
    assert failed["status"] == "rectification"
    assert failed["look_back_failures"] == 1
    await _hears(reporter, mark, "reporter_status.rectifying", "回头看：仍有欠付")
    await union.set_status(ref, "look_back", None)
    mark = reporter.mark()
    closed = await union.post(
        f"/cases/{ref}/look-back", {"passed": True, "note": "加班费已全部补发，班组长已调离"}
    )
    assert closed["status"] == "closed"
    await _hears(reporter, mark, "reporter_status.closed", "加班费已全部补发")
    history = await reporter.check_status(filed.receipt)
    for words in ("已受理", "办理中", "整改中", "已办结", "加班费已全部补发"):
        assert words in history
    assert "仅内部" not in history
    assert "纪检已立项" not in history

    # Overseer: statistics of complete months (this month's case is not in them yet, and one
    # case would be a small group anyway: nothing is published), no case content.
    overseer = await stack.officer("overseer1")
    stats = await overseer.get("/stats")
    assert stats["k"] == 5
    as_of = dt.date.fromisoformat(stats["as_of"])
    assert as_of.day == 1
    assert as_of <= dt.datetime.now(dt.UTC).date()
    assert stats["total"] is None
    assert all(n is None for n in stats["by_category"].values())
    await _expect_status(overseer, f"/cases/{ref}", 403)
    assert (await overseer.get("/audit/verify"))["ok"] is True

    # Administrator: accounts, then the audit chain; no case content.
    admin = await stack.officer("admin1")
    await admin.post(
        "/officers", {"username": "union2", "role": "union", "password": INITIAL_PASSWORD}
    )
    # The new colleague activates the account and reads out their key fingerprint; a union
    # member grants them the queue key with it, for a time-limited secondment.
    union2 = await stack.officer("union2")
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=90)).isoformat()
    grant = {"username": "union2", "expires_at": until, "fingerprint": union2.fingerprint}
    await union.post("/queues/union/members", grant)
    await union2.close()
    members = {m["username"] for m in await union.get("/queues/union/members")}
    assert members == {"union1", "union2"}
    for disabled in (True, False):
        patch = await admin.http.patch("/api/v1/officers/union2", json={"disabled": disabled})
        assert patch.status_code == 204, patch.text
    accounts = {o["username"]: o for o in await admin.get("/officers")}
    assert accounts["union2"]["disabled"] is False
    assert accounts["union2"]["queues"] == ["union"]
    await _expect_status(admin, f"/cases/{ref}", 403)
    await _expect_status(admin, "/stats", 403)
    actions = [entry["action"] for entry in await admin.get("/audit", limit=200)]
    for action in (
        "case_triaged",
        "transfer_requested",
        "transfer_accepted",
        "rectification_ordered",
        "look_back_failed",
        "case_closed",
        "stats_viewed",
    ):
        assert action in actions, action
    verified = await admin.get("/audit/verify")
    assert verified["ok"] is True
    assert verified["first_broken_id"] is None


async def test_an_officer_logs_in_again_without_replaying_a_code(stack: Stack) -> None:
    """Two logins of one officer in a row each use a fresh TOTP step; a replayed code fails."""
    clients = [await stack.officer("union1") for _ in range(2)]
    for client in clients:
        assert await client.cases() == []
    replay = OfficerClient(stack.api_url)
    stack.clients.append(replay)
    step = stack.totp_steps["union1"]
    response = await replay.http.post(
        "/api/v1/auth/login",
        json={
            "username": "union1",
            "password": PASSWORD,
            "totp": pyotp.TOTP(stack.totp_secrets["union1"]).generate_otp(step),
        },
    )
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
