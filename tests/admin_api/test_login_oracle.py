"""Attacks on login over HTTP: nothing that follows a right password may answer differently
from a wrong one, and every such attempt counts toward the throttle and the audit log."""

from __future__ import annotations

from sqlalchemy import update

from storage.models import Officer
from tests.admin_api.conftest import Api
from tests.factories import PASSWORD

WRONG = "not the password at all"


async def _failed_logins(api: Api) -> int:
    admin = await api.site.login("admin1")
    entries = await api.site.audit.page(admin, 500, 0)
    return sum(1 for e in entries if e.action == "login_failed")


async def _login(api: Api, password: str, code: str) -> tuple[int, dict[str, object]]:
    response = await api.client.post(
        "/api/v1/auth/login", json={"username": "union1", "password": password, "totp": code}
    )
    return response.status_code, response.json()


async def test_attack_non_ascii_digits_do_not_confirm_the_password(api: Api) -> None:
    """Given union1's password, when a code of Arabic-Indic or full-width digits is sent with
    the right and with a wrong password, then both get the same 401, both are audited and both
    count toward the throttle — the right password is not confirmed by a 500."""
    before = await _failed_logins(api)
    throttle = api.site.auth.throttle
    answers = []
    for code in ("١٢٣٤٥٦", "１２３４５６"):
        for password in (PASSWORD, WRONG):
            answers.append(await _login(api, password, code))
    assert {status for status, _ in answers} == {401}
    assert len({str(body) for _, body in answers}) == 1
    assert answers[0][1]["code"] == "authentication_failed"
    assert throttle.failures("union1") == 4
    assert await _failed_logins(api) == before + 4


async def test_attack_unexpected_error_after_the_password_is_a_plain_failure(api: Api) -> None:
    """Given a TOTP secret that no longer opens (a tampered row), when union1 logs in with the
    right password, then the answer is the same 401 as a wrong password, audited and throttled,
    not a 403 or 500 that would confirm the password."""
    async with api.site.engine.begin() as conn:
        await conn.execute(
            update(Officer).where(Officer.username == "union1").values(totp_wrapped=b"\0" * 60)
        )
    before = await _failed_logins(api)
    right = await _login(api, PASSWORD, "123456")
    wrong = await _login(api, WRONG, "123456")
    assert right == wrong
    assert right[0] == 401
    assert api.site.auth.throttle.failures("union1") == 2
    assert await _failed_logins(api) == before + 2
