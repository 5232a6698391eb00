"""Authorization matrix: every role × every route over HTTP; the expected status asserted."""

from __future__ import annotations

from typing import Any

import httpx

from admin_api.app import create_app
from tests.factories import OFFICERS, PASSWORD, build_site

CASEWORK = {"triage1", "union1", "disc1"}
ADMIN = {"admin1"}
AUDIT = {"admin1", "overseer1"}
EVERYONE = set(OFFICERS)
QUEUES = {"union1", "disc1"}

# (method, path, body, roles that get past authorization). Others must get 403.
ROUTES: list[tuple[str, str, Any, set[str]]] = [
    ("GET", "/api/v1/auth/me", None, EVERYONE),
    ("GET", "/api/v1/cases", None, CASEWORK),
    ("GET", "/api/v1/cases/AAAA-BBBB", None, CASEWORK),
    ("POST", "/api/v1/cases/AAAA-BBBB/triage", {"routing": "union"}, {"triage1"}),
    ("POST", "/api/v1/cases/AAAA-BBBB/status", {"status": "in_progress"}, CASEWORK),
    (
        "POST",
        "/api/v1/cases/AAAA-BBBB/disposition",
        {"disposition": "mediation"},
        {"union1", "disc1"},
    ),
    (
        "POST",
        "/api/v1/cases/AAAA-BBBB/rectification",
        {"owner_unit": "x", "due_on": "2099-01-01"},
        CASEWORK,
    ),
    ("POST", "/api/v1/cases/AAAA-BBBB/look-back", {"passed": False}, CASEWORK),
    ("POST", "/api/v1/cases/AAAA-BBBB/close", {"text": "x"}, CASEWORK),
    ("POST", "/api/v1/cases/AAAA-BBBB/reopen", {"text": "x"}, CASEWORK),
    ("POST", "/api/v1/cases/AAAA-BBBB/extension", {"text": "x"}, CASEWORK),
    ("POST", "/api/v1/cases/AAAA-BBBB/messages", {"text": "x"}, CASEWORK),
    ("POST", "/api/v1/cases/AAAA-BBBB/notes", {"text": "x"}, CASEWORK),
    ("GET", "/api/v1/cases/AAAA-BBBB/attachments", None, CASEWORK),
    ("GET", "/api/v1/cases/AAAA-BBBB/attachments/ITEM1", None, CASEWORK),
    ("GET", "/api/v1/officers", None, ADMIN),
    (
        "POST",
        "/api/v1/officers",
        {"username": "new1", "role": "union", "password": PASSWORD},
        ADMIN,
    ),
    ("PATCH", "/api/v1/officers/nobody", {"disabled": False}, ADMIN),
    ("POST", "/api/v1/officers/nobody/password-reset", {"password": PASSWORD}, ADMIN),
    ("GET", "/api/v1/queues/union/members", None, {"union1"}),
    (
        "POST",
        "/api/v1/queues/union/members",
        {"username": "nobody", "fingerprint": "0000-0000-0000-0000-0000"},
        {"union1"},
    ),
    ("DELETE", "/api/v1/queues/union/members/nobody", None, {"union1"}),
    ("GET", "/api/v1/audit", None, AUDIT),
    ("GET", "/api/v1/audit/verify", None, AUDIT),
    ("GET", "/api/v1/notifications/stats", None, ADMIN),
    ("GET", "/api/v1/transfers", None, QUEUES),
    (
        "POST",
        "/api/v1/transfers",
        {"reference": "AAAA-BBBB", "to_queue": "discipline", "feedback": "x"},
        QUEUES,
    ),
    ("POST", "/api/v1/transfers/t0/accept", None, QUEUES),
    ("POST", "/api/v1/transfers/t0/decline", {"reason": "x"}, QUEUES),
    ("GET", "/api/v1/stats", None, {"overseer1"}),
    ("POST", "/api/v1/alerts/link-code", None, EVERYONE),
    ("DELETE", "/api/v1/alerts/link", None, EVERYONE),
]


async def test_every_role_on_every_route(database_url: str) -> None:
    site = await build_site(database_url)
    app = create_app(site.api_services())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        tokens = {}
        for username in OFFICERS:
            body = {"username": username, "password": PASSWORD, "totp": site.totp(username)}
            response = await http.post("/api/v1/auth/login", json=body)
            assert response.status_code == 200, response.text
            tokens[username] = response.json()["token"]
        documented = {
            (method.upper(), path)
            for path, item in app.openapi()["paths"].items()
            for method in item
        }
        tested = {(m, p.replace("AAAA-BBBB", "{reference}")) for m, p, _, _ in ROUTES}
        tested = {
            (
                m,
                p.replace("/union/", "/{queue}/")
                .replace("/nobody", "/{username}")
                .replace("/ITEM1", "/{item_id}"),
            )
            for m, p in tested
        }
        tested = {(m, p.replace("/t0/", "/{transfer_id}/")) for m, p in tested}
        untested = documented - tested - {("POST", "/api/v1/auth/login"), ("GET", "/healthz")}
        untested -= {
            ("POST", "/api/v1/auth/totp"),
            ("POST", "/api/v1/auth/totp/confirm"),
            ("POST", "/api/v1/auth/password"),
            ("POST", "/api/v1/auth/logout"),
        }
        assert untested == set(), untested
        for method, path, body, allowed in ROUTES:
            anonymous = await http.request(method, path, json=body)
            assert anonymous.status_code == 401, (method, path)
            for username, token in tokens.items():
                response = await http.request(
                    method, path, json=body, headers={"Authorization": f"Bearer {token}"}
                )
                got = response.status_code
                assert got < 500, (method, path, username, response.text)
                if username in allowed:
                    assert got != 403, (method, path, username, response.text)
                else:
                    assert got == 403, (method, path, username, got, response.text)
                assert response.json().get("code") if got >= 400 else True
    await site.engine.dispose()
