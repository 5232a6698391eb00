"""Onboarding over HTTP: an administrator creates an account, the officer activates it with a
password of their own, and a member grants a queue only to the fingerprint the officer reads out.
"""

from __future__ import annotations

from typing import Any

from tests.admin_api.conftest import Api
from tests.factories import INITIAL_PASSWORD, PASSWORD


async def _call(api: Api, method: str, path: str, token: str, body: Any = None) -> Any:
    return await api.client.request(method, f"/api/v1{path}", json=body, headers=api.bearer(token))


async def _create_union2(api: Api) -> None:
    body = {"username": "union2", "role": "union", "password": INITIAL_PASSWORD}
    response = await _call(api, "POST", "/officers", await api.token("admin1"), body)
    assert response.status_code == 201, response.text


async def _first_login(api: Api) -> str:
    body = {"username": "union2", "password": INITIAL_PASSWORD}
    response = await api.client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["enrolment_required"] is True
    token: str = response.json()["token"]
    return token


async def test_onboarding_activates_and_grants_by_fingerprint(api: Api) -> None:
    await _create_union2(api)
    admin = await api.token("admin1")
    listed = {o["username"]: o for o in (await _call(api, "GET", "/officers", admin)).json()}
    assert listed["union2"]["activated"] is False
    assert listed["union1"]["activated"] is True

    token = await _first_login(api)
    me = await _call(api, "GET", "/auth/me", token)
    assert me.status_code == 403
    assert me.json()["code"] == "totp_enrolment_required"
    change = {"old_password": INITIAL_PASSWORD, "new_password": PASSWORD}
    assert (await _call(api, "POST", "/auth/password", token, change)).status_code == 409
    secret = (await _call(api, "POST", "/auth/totp", token)).json()["secret"]
    clock = api.site.totp_clock  # the time the service checks codes at
    for code, password in (
        (clock.code(secret), INITIAL_PASSWORD),  # the administrator's password cannot stay
        ("١٢٣٤٥٦", PASSWORD),  # non-ASCII digits: a wrong code, not a server error
        (clock.code(secret), "short"),
    ):
        body = {"code": code, "new_password": password}
        assert (await _call(api, "POST", "/auth/totp/confirm", token, body)).status_code == 422
    activated = await _call(
        api,
        "POST",
        "/auth/totp/confirm",
        token,
        {"code": clock.code(secret), "new_password": PASSWORD},
    )
    assert activated.status_code == 200, activated.text
    fingerprint = activated.json()["key_fingerprint"]
    me = await _call(api, "GET", "/auth/me", token)
    assert me.json()["key_fingerprint"] == fingerprint
    assert me.json()["queues"] == []

    member = await api.token("union1")
    path = "/queues/union/members"
    missing = await _call(api, "POST", path, member, {"username": "union2"})
    assert missing.status_code == 422
    assert "body.fingerprint" in missing.json()["fields"]
    wrong = await _call(
        api, "POST", path, member, {"username": "union2", "fingerprint": "0000-" * 4 + "0000"}
    )
    assert wrong.status_code == 409
    assert wrong.json()["code"] == "fingerprint_mismatch"
    assert fingerprint not in wrong.text  # the member must have it from the colleague
    # Read out over the phone: upper case, spaces instead of dashes — still the same key.
    spoken = fingerprint.upper().replace("-", " ")
    granted = await _call(api, "POST", path, member, {"username": "union2", "fingerprint": spoken})
    assert granted.status_code == 201, granted.text

    api.site.totp_secrets["union2"] = secret
    again = await api.token("union2")
    assert (await _call(api, "GET", "/auth/me", again)).json()["queues"] == ["union"]


async def test_attack_administrator_logs_in_as_the_new_officer_and_gets_no_grant(
    api: Api,
) -> None:
    """Given an account just created, when the administrator logs in with its initial password,
    then the session can do nothing, and a member's grant to the account is refused with
    `officer_not_activated`."""
    await _create_union2(api)
    hijack = await _first_login(api)
    for method, path in (("GET", "/cases"), ("GET", "/auth/me"), ("GET", "/queues/union/members")):
        response = await _call(api, method, path, hijack)
        assert response.status_code == 403, (path, response.text)
    member = await api.token("union1")
    body = {"username": "union2", "fingerprint": "0000-0000-0000-0000-0000"}
    refused = await _call(api, "POST", "/queues/union/members", member, body)
    assert refused.status_code == 409
    assert refused.json()["code"] == "officer_not_activated"
