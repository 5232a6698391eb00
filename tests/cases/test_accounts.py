"""Login with TOTP, throttling, password change and administrator resets; P4 as attacks."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import MetaData, select

from cases.errors import (
    AuthenticationFailed,
    Conflict,
    EnrolmentRequired,
    FingerprintMismatch,
    Forbidden,
    InvalidInput,
    NotFound,
    OfficerNotActivated,
    TooManyAttempts,
)
from cases.throttle import LoginThrottle
from storage.crypto import officer_auth
from tests.factories import INITIAL_PASSWORD, PASSWORD, TEST_COST, build_site

NEW_PASSWORD = "another long passphrase 42"


async def _dump(site_engine: object) -> list[bytes]:
    """Every bytes value in every table."""
    metadata = MetaData()
    values: list[bytes] = []
    async with site_engine.connect() as conn:  # type: ignore[attr-defined]
        await conn.run_sync(metadata.reflect)
        for table in metadata.sorted_tables:
            for row in await conn.execute(select(table)):
                values.extend(bytes(v) for v in row if isinstance(v, bytes | memoryview))
    return values


async def test_login_needs_the_current_totp_code(database_url: str) -> None:
    site = await build_site(database_url)
    with pytest.raises(AuthenticationFailed):
        await site.auth.login("union1", PASSWORD)
    with pytest.raises(AuthenticationFailed):
        await site.auth.login("union1", PASSWORD, "000000")
    session = await site.login("union1")
    assert not session.enrolment_pending
    assert "union" in session.queue_keys
    await site.engine.dispose()


async def test_first_login_activates_with_an_own_password_and_a_new_key(database_url: str) -> None:
    site = await build_site(database_url)
    await site.setup.add_officer("fresh1", "union", INITIAL_PASSWORD)
    session = await site.auth.login("fresh1", INITIAL_PASSWORD)
    assert session.enrolment_pending
    assert session.key_fingerprint is None
    with pytest.raises(Conflict):  # re-wrapping the placeholder key would keep it openable
        await site.auth.change_password(session, INITIAL_PASSWORD, NEW_PASSWORD)
    enrolment = site.auth.begin_enrolment(session)
    assert enrolment.uri.startswith("otpauth://totp/SpeakUp:fresh1?")
    assert enrolment.qr_png.startswith(b"\x89PNG")
    with pytest.raises(InvalidInput):  # the administrator's password cannot be kept
        await site.auth.activate(session, site.totp_clock.code(enrolment.secret), INITIAL_PASSWORD)
    with pytest.raises(InvalidInput):  # a code of non-ASCII digits is a wrong code, no crash
        await site.auth.activate(session, "١٢٣٤٥٦", PASSWORD)
    code = site.totp_clock.code(enrolment.secret)
    fingerprint = await site.auth.activate(session, code, PASSWORD)
    assert not session.enrolment_pending
    assert session.key_fingerprint == fingerprint
    with pytest.raises(Conflict):
        await site.auth.activate(session, site.totp_clock.code(enrolment.secret), PASSWORD)
    with pytest.raises(AuthenticationFailed):  # the initial password is gone
        await site.auth.login("fresh1", INITIAL_PASSWORD)
    again = await site.auth.login("fresh1", PASSWORD, site.totp_clock.code(enrolment.secret))
    assert not again.enrolment_pending
    assert again.key_fingerprint == fingerprint
    actions = [e.action for e in await site.audit.page(await site.login("admin1"), 50, 0)]
    assert "account_activated" in actions
    await site.engine.dispose()


async def test_throttle_treats_unknown_and_known_usernames_alike() -> None:
    throttle = LoginThrottle(free=5)
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    for name in ("union1", "nobody"):
        for _ in range(5):
            throttle.check(name, now)
            throttle.failed(name, now)
        with pytest.raises(TooManyAttempts) as caught:
            throttle.check(name, now)
        assert caught.value.retry_after == 1
        throttle.failed(name, now + dt.timedelta(seconds=2))
        with pytest.raises(TooManyAttempts) as caught:
            throttle.check(name, now + dt.timedelta(seconds=2))
        assert caught.value.retry_after == 2  # the delay doubles
        throttle.check(name, now + dt.timedelta(seconds=5))


async def test_sixth_wrong_login_is_delayed_for_existing_and_unknown_accounts(
    database_url: str,
) -> None:
    site = await build_site(database_url)
    for name in ("union1", "nobody"):
        for _ in range(5):
            with pytest.raises(AuthenticationFailed):
                await site.auth.login(name, "wrong password!!", "123456")
        with pytest.raises(TooManyAttempts):
            await site.auth.login(name, PASSWORD, site.totp("union1"))
    await site.engine.dispose()


async def test_password_change_makes_a_new_key_and_keeps_totp_and_grants(
    database_url: str,
) -> None:
    site = await build_site(database_url)
    session = await site.login("union1")
    rotated = await site.auth.change_password(session, PASSWORD, NEW_PASSWORD)
    assert rotated.fingerprint != site.fingerprints["union1"]
    with pytest.raises(AuthenticationFailed):
        await site.login("union1")
    again = await site.auth.login("union1", NEW_PASSWORD, site.totp("union1"))
    assert again.queue_key("union") == session.queue_key("union")
    assert again.key_fingerprint == rotated.fingerprint
    await site.engine.dispose()


async def test_administrator_reset_loses_queue_keys_until_regranted(database_url: str) -> None:
    site = await build_site(database_url)
    admin = await site.login("admin1")
    old_fingerprint = site.fingerprints["union1"]
    await site.accounts.reset_password(admin, "union1", "a new initial password")
    session = await site.auth.login("union1", "a new initial password")
    assert session.enrolment_pending  # not activated again: TOTP and key go with the reset
    assert session.queue_keys == {}
    session.wipe()
    await site.add_officer("union2", "union", "union")
    member = await site.login("union2")
    with pytest.raises(OfficerNotActivated):
        await site.membership.grant(member, "union", "union1", old_fingerprint)
    fingerprint = await site.activate("union1", "a new initial password", NEW_PASSWORD)
    assert fingerprint != old_fingerprint
    with pytest.raises(FingerprintMismatch):  # the key the member knew is gone
        await site.membership.grant(member, "union", "union1", old_fingerprint)
    # A member re-grants, naming the new key; now the officer holds the union key again.
    await site.membership.grant(member, "union", "union1", fingerprint)
    back = await site.auth.login("union1", NEW_PASSWORD, site.totp("union1"))
    assert "union" in back.queue_keys
    await site.engine.dispose()


async def test_administrator_manages_accounts_but_reads_no_case(database_url: str) -> None:
    site = await build_site(database_url)
    admin = await site.login("admin1")
    await site.accounts.create(admin, "disc2", "discipline", INITIAL_PASSWORD)
    await site.accounts.set_disabled(admin, "disc2", True)
    with pytest.raises(AuthenticationFailed):
        await site.auth.login("disc2", INITIAL_PASSWORD)
    await site.accounts.set_disabled(admin, "disc2", False)
    assert (await site.auth.login("disc2", INITIAL_PASSWORD)).enrolment_pending
    await site.accounts.set_role(admin, "disc1", "union")
    assert (await site.login("disc1")).queue_keys == {}
    rows = {o.username: o for o in await site.accounts.list_officers(admin)}
    assert rows["disc1"].role == "union"
    assert rows["union1"].queues == ("union",)
    assert rows["union1"].activated
    assert not rows["disc2"].activated
    with pytest.raises(Forbidden):
        await site.casework.list_cases(admin)
    union = await site.login("union1")
    with pytest.raises(Forbidden):
        await site.accounts.list_officers(union)
    await site.engine.dispose()


async def test_p4_no_private_key_password_key_or_totp_secret_at_rest(database_url: str) -> None:
    """Given a logged-in officer, no table holds their private key, K-derived keys or TOTP
    secret; and after logout (wipe) the session's key buffers are zeros."""
    site = await build_site(database_url)
    session = await site.login("union1")
    async with site.uow() as uow:  # type: ignore[operator]
        officer = await uow.officers.by_username("union1")
    unlocked = officer_auth.unlock(officer.id, officer.key, PASSWORD)
    secret = site.totp_secrets["union1"].encode()
    union_key = session.queue_key("union")
    assert union_key is not None
    dump = b"\n".join(await _dump(site.engine))
    for needle in (unlocked.pair.private, unlocked.totp_key, secret, union_key):
        assert needle not in dump
    buffers = list(session.queue_keys.values())
    session.wipe()
    assert session.queue_keys == {}
    assert all(buffer == bytearray(len(buffer)) for buffer in buffers)
    assert TEST_COST.memory_kib == 64
    await site.engine.dispose()


async def test_grant_with_expiry_and_revoke(database_url: str) -> None:
    site = await build_site(database_url)
    disc = await site.login("disc1")
    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)
    await site.membership.grant(disc, "discipline", "union1", site.fingerprints["union1"], until)
    union = await site.login("union1")
    assert union.grant_expiry["discipline"] == until.replace(microsecond=until.microsecond)
    union.drop_expired(until + dt.timedelta(seconds=1))
    assert "discipline" not in union.queue_keys
    members = [m.username for m in await site.membership.members(disc, "discipline")]
    assert members == ["disc1", "union1"]
    await site.membership.revoke(disc, "discipline", "union1")
    assert "discipline" not in (await site.login("union1")).queue_keys
    with pytest.raises(Forbidden):
        await site.membership.grant(
            await site.login("union1"), "discipline", "union1", site.fingerprints["union1"]
        )
    with pytest.raises(NotFound):
        await site.membership.revoke(disc, "discipline", "union1")
    await site.engine.dispose()


async def test_expired_grant_is_deleted_and_audited(database_url: str) -> None:
    site = await build_site(database_url)
    disc = await site.login("disc1")
    await site.membership.grant(
        disc,
        "discipline",
        "union1",
        site.fingerprints["union1"],
        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1),
    )
    site.membership._clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    members = [m.username for m in await site.membership.members(disc, "discipline")]
    assert members == ["disc1"]
    actions = [e.action for e in await site.audit.page(await site.login("admin1"), 50, 0)]
    assert "grant_expired" in actions
    assert "key_granted" in actions
    await site.engine.dispose()


async def test_enrolment_pending_sessions_are_refused_by_the_api_dependency() -> None:
    from admin_api.deps import _officer
    from cases.officers import OfficerSession

    with pytest.raises(EnrolmentRequired):
        _officer(OfficerSession("x", "x", "union", enrolment_pending=True))
