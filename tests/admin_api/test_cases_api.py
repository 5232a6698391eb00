"""The admin API's contract: status codes, stable error codes, and what sessions hold."""

from __future__ import annotations

from tests.admin_api.conftest import Api
from tests.factories import PASSWORD, REPORT_TEXT


async def test_requests_without_a_session_get_401(api: Api) -> None:
    for method, path in [
        ("GET", "/api/v1/cases"),
        ("GET", "/api/v1/cases/ABCD-EFGH"),
        ("POST", "/api/v1/cases/ABCD-EFGH/status"),
        ("GET", "/api/v1/auth/me"),
    ]:
        response = await api.client.request(method, path, headers=api.bearer("forged"))
        assert response.status_code == 401, (method, path)
        assert response.json()["code"] == "authentication_required"


async def test_wrong_password_and_unknown_user_look_the_same(api: Api) -> None:
    wrong = await api.client.post(
        "/api/v1/auth/login",
        json={"username": "union1", "password": PASSWORD + "!", "totp": api.site.totp("union1")},
    )
    unknown = await api.client.post(
        "/api/v1/auth/login", json={"username": "ghost", "password": PASSWORD, "totp": "123456"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {"code": "authentication_failed", "message": "wrong credentials"}
    )


async def test_triage_then_union_over_http(api: Api) -> None:
    _, submitted = await api.site.file_report()
    triage = api.bearer(await api.token("triage1"))
    listed = (await api.client.get("/api/v1/cases", headers=triage)).json()
    assert [c["reference"] for c in listed] == [submitted.reference]
    assert "report" not in listed[0]  # list rows are metadata only
    detail = await api.client.get(f"/api/v1/cases/{submitted.reference}", headers=triage)
    assert detail.json()["report"] == REPORT_TEXT

    # The union cannot see the case before triage routes it there.
    union = api.bearer(await api.token("union1"))
    hidden = await api.client.get(f"/api/v1/cases/{submitted.reference}", headers=union)
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "not_found"

    routed = await api.client.post(
        f"/api/v1/cases/{submitted.reference}/triage",
        json={"routing": "union", "severity": "high"},
        headers=triage,
    )
    assert routed.status_code == 200
    assert routed.json()["holders"] == ["union"]
    assert routed.json()["status"] == "accepted"

    moved = await api.client.post(
        f"/api/v1/cases/{submitted.reference}/status",
        json={"status": "in_progress", "note": "正在核实"},
        headers=union,
    )
    assert moved.status_code == 200
    assert moved.json()["status"] == "in_progress"


async def test_invalid_transition_is_409_with_the_allowed_ones(api: Api) -> None:
    _, submitted = await api.site.file_report()
    triage = api.bearer(await api.token("triage1"))
    await api.client.post(
        f"/api/v1/cases/{submitted.reference}/triage", json={"routing": "union"}, headers=triage
    )
    union = api.bearer(await api.token("union1"))
    response = await api.client.post(
        f"/api/v1/cases/{submitted.reference}/status", json={"status": "closed"}, headers=union
    )
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert response.json()["allowed"] == ["in_progress"]
    assert response.json()["via"] == {"in_progress": "status"}


async def test_the_status_route_sends_other_moves_to_their_own_routes(api: Api) -> None:
    """In progress → closed through the bare status route would skip the outcome text, and →
    rectification the owner unit and due date: 409, naming the route that makes each move."""
    _, submitted = await api.site.file_report()
    ref = submitted.reference
    triage = api.bearer(await api.token("triage1"))
    union = api.bearer(await api.token("union1"))
    await api.client.post(f"/api/v1/cases/{ref}/triage", json={"routing": "union"}, headers=triage)
    moved = await api.client.post(
        f"/api/v1/cases/{ref}/status", json={"status": "in_progress"}, headers=union
    )
    assert moved.status_code == 200
    for status in ("closed", "rectification", "look_back", "accepted"):
        refused = await api.client.post(
            f"/api/v1/cases/{ref}/status", json={"status": status, "note": "x"}, headers=union
        )
        assert refused.status_code == 409, status
        body = refused.json()
        assert body["code"] == "invalid_transition"
        assert body["allowed"] == ["closed", "rectification", "waiting_reporter"]
        assert body["via"] == {
            "closed": "close",
            "rectification": "rectification",
            "waiting_reporter": "status",
        }
    # The look-back route refuses a case that is not in look-back (it used to close it).
    early = await api.client.post(
        f"/api/v1/cases/{ref}/look-back", json={"passed": True, "note": "ok"}, headers=union
    )
    assert early.status_code == 409
    assert early.json()["via"]["closed"] == "close"
    # The rectification route bounds its due date.
    far = await api.client.post(
        f"/api/v1/cases/{ref}/rectification",
        json={"owner_unit": "二车间", "due_on": "9999-12-31"},
        headers=union,
    )
    assert far.status_code == 422
    assert far.json()["code"] == "invalid_input"
    # The disposition note stays internal unless the officer says otherwise.
    internal = await api.client.post(
        f"/api/v1/cases/{ref}/disposition",
        json={"disposition": "mediation", "note": "拟协调"},
        headers=union,
    )
    assert internal.status_code == 200
    visible = await api.client.post(
        f"/api/v1/cases/{ref}/disposition",
        json={"disposition": "mediation", "note": "工会将组织协调", "reporter_visible": True},
        headers=union,
    )
    assert visible.status_code == 200
    closed = await api.client.post(
        f"/api/v1/cases/{ref}/close", json={"text": "已协调补发"}, headers=union
    )
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    detail = (await api.client.get(f"/api/v1/cases/{ref}", headers=union)).json()
    visibility = {i["text"]: i["reporter_visible"] for i in detail["items"]}
    assert visibility["拟协调"] is False
    assert visibility["工会将组织协调"] is True
    assert [
        row["deadline"] for row in (await api.client.get("/api/v1/cases", headers=union)).json()
    ] == [None]


async def test_bad_bodies_are_422_with_field_names_only(api: Api) -> None:
    _, submitted = await api.site.file_report()
    triage = api.bearer(await api.token("triage1"))
    response = await api.client.post(
        f"/api/v1/cases/{submitted.reference}/triage",
        json={"routing": "elsewhere", "note": "secret words"},
        headers=triage,
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert "body.routing" in body["fields"]
    assert "secret words" not in response.text  # rejected input is not echoed back

    both = await api.client.post(
        f"/api/v1/cases/{submitted.reference}/triage",
        json={"routing": "union", "not_accepted_reason": "duplicate"},
        headers=triage,
    )
    assert both.status_code == 422
    assert both.json()["code"] == "invalid_input"


async def test_roles_without_casework_are_refused(api: Api) -> None:
    await api.site.file_report()
    for username in ("admin1", "overseer1"):
        response = await api.client.get(
            "/api/v1/cases", headers=api.bearer(await api.token(username))
        )
        assert response.status_code == 403, username
        assert response.json()["code"] == "forbidden"


async def test_logout_ends_the_session_and_wipes_its_keys(api: Api) -> None:
    token = await api.token("union1")
    sessions = api.app_state.sessions  # type: ignore[attr-defined]
    session = sessions.get(token)
    key_buffer = session.queue_keys["union"]
    assert any(key_buffer)
    response = await api.client.post("/api/v1/auth/logout", headers=api.bearer(token))
    assert response.status_code == 204
    assert not any(key_buffer)  # zeroed in place, not just dropped
    after = await api.client.get("/api/v1/auth/me", headers=api.bearer(token))
    assert after.status_code == 401


async def test_openapi_describes_every_route(api: Api) -> None:
    spec = (await api.client.get("/openapi.json")).json()
    paths = set(spec["paths"])
    assert {
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/auth/me",
        "/api/v1/cases",
        "/api/v1/cases/{reference}",
        "/api/v1/cases/{reference}/triage",
        "/api/v1/cases/{reference}/status",
    } <= paths
