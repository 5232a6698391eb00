"""Accounts and membership over HTTP: what a creation returns, and which names and passwords
are refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.admin_api.conftest import Api
from tests.factories import INITIAL_PASSWORD


async def _call(api: Api, method: str, path: str, token: str, body: Any = None) -> Any:
    return await api.client.request(method, f"/api/v1{path}", json=body, headers=api.bearer(token))


async def test_creating_an_officer_returns_the_account(api: Api) -> None:
    admin = await api.token("admin1")
    body = {"username": "li.triage", "role": "triage", "password": INITIAL_PASSWORD}
    created = await _call(api, "POST", "/officers", admin, body)
    assert created.status_code == 201, created.text
    assert created.json() == {
        "username": "li.triage",
        "role": "triage",
        "disabled": False,
        "totp_enrolled": False,
        "queues": [],
        "activated": False,
    }
    listed = {o["username"]: o for o in (await _call(api, "GET", "/officers", admin)).json()}
    assert listed["li.triage"] == created.json()  # the same account the list shows
    documented = (await api.client.get("/openapi.json")).json()["paths"]["/api/v1/officers"]
    assert documented["post"]["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OfficerAccountOut"
    }


async def test_usernames_outside_the_pattern_are_refused(api: Api) -> None:
    """Only A-Z a-z 0-9 . _ -, from a letter or digit: "lі.triage" (with a Cyrillic і) would
    read as another officer's name."""
    admin = await api.token("admin1")
    refused_names = [
        "bad name!",
        "li triage",
        " li",
        "li/triage",
        "lі.triage",
        ".x",
        "-x",
        "x" * 65,
    ]
    for username in [*refused_names, ""]:
        body = {"username": username, "role": "union", "password": INITIAL_PASSWORD}
        refused = await _call(api, "POST", "/officers", admin, body)
        assert refused.status_code == 422, (username, refused.text)
        assert refused.json()["fields"] == ["body.username"]
    listed = {o["username"] for o in (await _call(api, "GET", "/officers", admin)).json()}
    assert not listed & set(refused_names)
    body = {"username": "Li.Triage_2-b", "role": "union", "password": INITIAL_PASSWORD}
    assert (await _call(api, "POST", "/officers", admin, body)).status_code == 201


async def test_a_password_of_only_spaces_is_refused(api: Api) -> None:
    admin = await api.token("admin1")
    body = {"username": "li", "role": "union", "password": " " * 16}
    refused = await _call(api, "POST", "/officers", admin, body)
    assert refused.status_code == 422
    assert refused.json() == {
        "code": "invalid_input",
        "message": "password must not be only spaces",
    }
    reset = await _call(
        api, "POST", "/officers/union1/password-reset", admin, {"password": "\t" * 20}
    )
    assert reset.status_code == 422
    assert reset.json()["code"] == "invalid_input"


async def test_a_grant_returns_the_membership(api: Api) -> None:
    await api.site.add_officer("union2", "union")  # activated, no queue yet
    member = await api.token("union1")
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).replace(microsecond=0)
    body = {
        "username": "union2",
        "fingerprint": api.site.fingerprints["union2"],
        "expires_at": until.isoformat(),
    }
    granted = await _call(api, "POST", "/queues/union/members", member, body)
    assert granted.status_code == 201, granted.text
    out = granted.json()
    assert out["username"] == "union2"
    assert dt.datetime.fromisoformat(out["expires_at"]) == until
    granted_at = dt.datetime.fromisoformat(out["granted_at"])
    assert abs(granted_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    members = (await _call(api, "GET", "/queues/union/members", member)).json()
    assert {"union2"} <= {m["username"] for m in members}
