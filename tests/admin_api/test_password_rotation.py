"""Over HTTP: an account the administrator activated before the officer, handed over as "your
login details", is recovered by one password change — a new key, the administrator's sessions
ended, the old fingerprint refused. Wrong old passwords end a session without touching the
officer's login."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cases.password_change import WRONG_PER_SESSION
from tests.admin_api.conftest import Api
from tests.factories import INITIAL_PASSWORD, PASSWORD

ADMIN_CHOSEN = "welcome to the union queue"
OFFICER_OWN = "only the officer knows this one"


async def _call(api: Api, method: str, path: str, token: str, body: Any = None) -> Any:
    return await api.client.request(method, f"/api/v1{path}", json=body, headers=api.bearer(token))


async def _login(api: Api, username: str, password: str) -> Any:
    body = {"username": username, "password": password, "totp": api.site.totp(username)}
    return await api.client.post("/api/v1/auth/login", json=body)


async def test_attack_pre_activated_handover_is_undone_by_a_password_change(api: Api) -> None:
    """Given the administrator created union2, activated it with a password and authenticator
    of their own and kept that session open, when the officer logs in with the handed-over
    details, then the login says nobody logged in since activation; and when the officer
    changes the password, the administrator's session ends, the administrator's password no
    longer logs in, a grant to the administrator-made fingerprint is refused and one to the
    new fingerprint goes through."""
    admin = await api.token("admin1")
    body = {"username": "union2", "role": "union", "password": INITIAL_PASSWORD}
    assert (await _call(api, "POST", "/officers", admin, body)).status_code == 201
    first = await api.client.post(
        "/api/v1/auth/login", json={"username": "union2", "password": INITIAL_PASSWORD}
    )
    admins_session = first.json()["token"]
    secret = (await _call(api, "POST", "/auth/totp", admins_session)).json()["secret"]
    confirm = {"code": api.site.totp_clock.code(secret), "new_password": ADMIN_CHOSEN}
    activated = await _call(api, "POST", "/auth/totp/confirm", admins_session, confirm)
    assert activated.status_code == 200, activated.text
    admins_fingerprint = activated.json()["key_fingerprint"]
    api.site.totp_secrets["union2"] = secret  # handed over with the password

    login = await _login(api, "union2", ADMIN_CHOSEN)
    assert login.status_code == 200, login.text
    assert login.json()["first_login_since_activation"] is True
    assert login.json()["activated_at"] is not None
    officer = login.json()["token"]
    me = (await _call(api, "GET", "/auth/me", officer)).json()
    assert me["key_fingerprint"] == admins_fingerprint
    assert me["activated_at"] == login.json()["activated_at"]

    change = {"old_password": ADMIN_CHOSEN, "new_password": OFFICER_OWN}
    changed = await _call(api, "POST", "/auth/password", officer, change)
    assert changed.status_code == 200, changed.text
    fingerprint = changed.json()["key_fingerprint"]
    assert fingerprint != admins_fingerprint
    assert changed.json()["dropped_queues"] == []
    assert (await _call(api, "GET", "/auth/me", officer)).json()["key_fingerprint"] == fingerprint
    gone = await _call(api, "GET", "/auth/me", admins_session)
    assert gone.status_code == 401  # the administrator's session ended with the change

    member = await api.token("union1")
    path = "/queues/union/members"
    old = {"username": "union2", "fingerprint": admins_fingerprint}
    refused = await _call(api, "POST", path, member, old)
    assert refused.status_code == 409
    assert refused.json()["code"] == "fingerprint_mismatch"
    new = {"username": "union2", "fingerprint": fingerprint}
    assert (await _call(api, "POST", path, member, new)).status_code == 201

    assert (await _login(api, "union2", ADMIN_CHOSEN)).status_code == 401
    again = await _login(api, "union2", OFFICER_OWN)
    assert again.json()["first_login_since_activation"] is False
    assert again.json()["officer"]["queues"] == ["union"]


async def test_attack_stolen_token_cannot_guess_the_password_or_lock_out_the_officer(
    api: Api,
) -> None:
    """Given a stolen token, when the thief sends wrong old passwords, then each is 401, the
    session ends after a few (the token is dead), and the officer's own login still answers
    200 at once instead of the login throttle's 429."""
    frozen = dt.datetime.now(dt.UTC)  # the throttle's clock stands still: no flaky second
    api.site.auth._passwords._clock = lambda: frozen
    stolen, other = await api.token("union1"), await api.token("union1")
    for attempt in range(WRONG_PER_SESSION):
        change = {"old_password": f"guess {attempt} of many", "new_password": OFFICER_OWN}
        response = await _call(api, "POST", "/auth/password", stolen, change)
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "authentication_failed"
    assert (await _call(api, "GET", "/auth/me", stolen)).status_code == 401
    change = {"old_password": PASSWORD, "new_password": OFFICER_OWN}
    assert (await _call(api, "POST", "/auth/password", stolen, change)).status_code == 401
    # Another session (another stolen token) meets the per-officer wait …
    throttled = await _call(api, "POST", "/auth/password", other, change)
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "too_many_attempts"
    # … but the officer's login is not throttled, and it lets them change the password at once.
    own = await _login(api, "union1", PASSWORD)
    assert own.status_code == 200, own.text
    changed = await _call(api, "POST", "/auth/password", own.json()["token"], change)
    assert changed.status_code == 200, changed.text
    assert changed.json()["queues"] == ["union"]
