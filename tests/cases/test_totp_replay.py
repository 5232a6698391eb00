"""A TOTP code is good for one login: a replay inside its validity window is refused (attack)."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from sqlalchemy import select

from cases.errors import AuthenticationFailed
from storage.models import Officer
from tests.factories import INITIAL_PASSWORD, PASSWORD, build_site


async def test_attack_replayed_code_is_refused(database_url: str) -> None:
    """Given a code someone watched the officer type, when they log in with it again inside
    its 90-second window, then the login fails, and so does any older code."""
    site = await build_site(database_url)
    totp = pyotp.TOTP(site.totp_secrets["union1"])
    code = site.totp("union1")
    at = site.totp_clock()
    session = await site.auth.login("union1", PASSWORD, code)
    assert "union" in session.queue_keys
    with pytest.raises(AuthenticationFailed):
        await site.auth.login("union1", PASSWORD, code)
    older = totp.at(at - dt.timedelta(seconds=30))
    with pytest.raises(AuthenticationFailed):
        await site.auth.login("union1", PASSWORD, older)
    # The next step's code (one step of drift ahead) is still accepted once.
    newer = totp.at(at + dt.timedelta(seconds=30))
    assert (await site.auth.login("union1", PASSWORD, newer)).username == "union1"
    async with site.engine.connect() as conn:
        step = await conn.scalar(select(Officer.totp_last_step).where(Officer.username == "union1"))
    assert step == totp.timecode(at) + 1
    await site.engine.dispose()


async def test_enrolment_code_cannot_log_in_again(database_url: str) -> None:
    site = await build_site(database_url)
    await site.setup.add_officer("fresh1", "union", INITIAL_PASSWORD)
    session = await site.auth.login("fresh1", INITIAL_PASSWORD)
    enrolment = site.auth.begin_enrolment(session)
    code = site.totp_clock.code(enrolment.secret)
    await site.auth.activate(session, code, PASSWORD)
    with pytest.raises(AuthenticationFailed):
        await site.auth.login("fresh1", PASSWORD, code)
    fresh = await site.auth.login("fresh1", PASSWORD, site.totp_clock.code(enrolment.secret))
    assert not fresh.enrolment_pending
    await site.engine.dispose()
