"""A password change rotates the officer keypair (P3, P4): whatever opened the old key — the
password an administrator chose and handed over, plus a copy of the database — opens nothing
granted afterwards. Wrong old passwords are throttled apart from logins."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select, update

from cases.errors import (
    AuthenticationFailed,
    Conflict,
    DecryptionError,
    FingerprintMismatch,
    InvalidInput,
    TooManyAttempts,
)
from cases.password_change import WRONG_PER_SESSION
from storage.crypto import keys, officer_auth
from storage.crypto.primitives import KdfCost, new_keypair
from storage.models import Officer, QueueGrant
from tests.factories import INITIAL_PASSWORD, PASSWORD, Site, build_site

# The password the administrator chose when activating the account before the officer did.
ADMIN_CHOSEN = "welcome to the union queue"
OFFICER_OWN = "only the officer knows this one"


async def _officer_row(site: Site, username: str) -> keys.WrappedOfficerKey:
    """The officer's key columns as a database copy holds them."""
    async with site.engine.connect() as conn:
        row = (await conn.execute(select(Officer).where(Officer.username == username))).one()
    cost = KdfCost(row.kdf_memory_kib, row.kdf_iterations, row.kdf_lanes)
    return keys.WrappedOfficerKey(
        row.public_key, row.kdf_salt, row.verifier, row.wrapped_private_key, cost
    )


async def _grant_row(site: Site, officer_id: str, queue: str) -> bytes:
    async with site.engine.connect() as conn:
        sealed = await conn.scalar(
            select(QueueGrant.sealed_key).where(
                QueueGrant.officer_id == officer_id, QueueGrant.queue == queue
            )
        )
    assert sealed is not None
    return bytes(sealed)


async def _officer_id(site: Site, username: str) -> str:
    async with site.uow() as uow:  # type: ignore[operator]
        officer = await uow.officers.by_username(username)
    assert officer is not None
    return str(officer.id)


async def test_attack_administrator_pre_activates_and_hands_over(database_url: str) -> None:
    """Given an account the administrator created AND activated with a password and an
    authenticator of their own, handed to the officer as "your login details", when the officer
    changes the password and a member grants to the fingerprint the officer then reads out,
    then the administrator's password plus database copies from before and after open nothing
    granted, the old fingerprint is refused, and the administrator cannot log in."""
    site = await build_site(database_url)
    admin = await site.login("admin1")
    await site.accounts.create(admin, "union2", "union", INITIAL_PASSWORD)
    admins_fingerprint = await site.activate("union2", INITIAL_PASSWORD, ADMIN_CHOSEN)
    dump_before = await _officer_row(site, "union2")

    officer = await site.auth.login("union2", ADMIN_CHOSEN, site.totp("union2"))
    # The login tells the officer someone activated the account before this first login.
    assert officer.first_login_since_activation
    assert officer.activated_at is not None
    assert officer.key_fingerprint == admins_fingerprint
    rotated = await site.auth.change_password(officer, ADMIN_CHOSEN, OFFICER_OWN)
    assert rotated.fingerprint != admins_fingerprint
    assert officer.key_fingerprint == rotated.fingerprint

    member = await site.login("union1")
    with pytest.raises(FingerprintMismatch):  # the key the administrator made is gone
        await site.membership.grant(member, "union", "union2", admins_fingerprint)
    with pytest.raises(FingerprintMismatch):
        await site.setup.grant_with_recovery(
            "union", "union2", site.recovery_words, admins_fingerprint
        )
    await site.membership.grant(member, "union", "union2", rotated.fingerprint)

    officer_id = await _officer_id(site, "union2")
    grant = await _grant_row(site, officer_id, "union")
    dump_after = await _officer_row(site, "union2")
    old = officer_auth.unlock(officer_id, dump_before, ADMIN_CHOSEN)  # opens, but …
    with pytest.raises(DecryptionError):  # … the grant went to the new key only
        keys.open_queue_key("union", officer_id, old.pair.private, grant)
    with pytest.raises(AuthenticationFailed):  # today's row is not under their password
        officer_auth.unlock(officer_id, dump_after, ADMIN_CHOSEN)
    with pytest.raises(AuthenticationFailed):
        await site.auth.login("union2", ADMIN_CHOSEN, site.totp("union2"))
    back = await site.auth.login("union2", OFFICER_OWN, site.totp("union2"))
    assert "union" in back.queue_keys
    assert not back.first_login_since_activation
    await site.engine.dispose()


async def test_grants_are_resealed_to_the_new_key(database_url: str) -> None:
    """Given a member of two queues — one granted after this session logged in, so the session
    does not hold it —, a password change re-seals both grants to the new key: a login with the
    new password opens the same queue keys, and the old private key opens neither row."""
    site = await build_site(database_url)
    session = await site.login("union1")
    assert set(session.queue_keys) == {"union"}
    disc = await site.login("disc1")
    await site.membership.grant(disc, "discipline", "union1", site.fingerprints["union1"])
    officer_id = await _officer_id(site, "union1")
    old = officer_auth.unlock(officer_id, await _officer_row(site, "union1"), PASSWORD)

    rotated = await site.auth.change_password(session, PASSWORD, OFFICER_OWN)
    assert rotated.queues == ("discipline", "union")
    assert rotated.dropped == ()
    assert rotated.fingerprint != site.fingerprints["union1"]
    again = await site.auth.login("union1", OFFICER_OWN, site.totp("union1"))
    assert again.key_fingerprint == rotated.fingerprint
    assert again.queue_key("union") == session.queue_key("union")
    assert again.queue_key("discipline") == disc.queue_key("discipline")
    for queue in ("union", "discipline"):
        with pytest.raises(DecryptionError):
            keys.open_queue_key(
                queue, officer_id, old.pair.private, await _grant_row(site, officer_id, queue)
            )
    audit = await site.audit.page(await site.login("admin1"), 50, 0)
    changed = next(e for e in audit if e.action == "password_changed")
    assert rotated.fingerprint in changed.detail
    await site.engine.dispose()


async def test_a_grant_that_does_not_open_is_dropped_and_named(database_url: str) -> None:
    """A grant row sealed to some other key (it would fail a login too) is deleted by the change
    and named, rather than refusing the change and leaving the officer on the old key."""
    site = await build_site(database_url)
    disc = await site.login("disc1")
    await site.membership.grant(disc, "discipline", "union1", site.fingerprints["union1"])
    session = await site.login("union1")
    officer_id = await _officer_id(site, "union1")
    elsewhere = keys.seal_queue_key("discipline", officer_id, new_keypair().public, b"k" * 32)
    async with site.engine.begin() as conn:
        await conn.execute(
            update(QueueGrant)
            .where(QueueGrant.officer_id == officer_id, QueueGrant.queue == "discipline")
            .values(sealed_key=elsewhere)
        )
    rotated = await site.auth.change_password(session, PASSWORD, OFFICER_OWN)
    assert rotated.queues == ("union",)
    assert rotated.dropped == ("discipline",)
    assert "discipline" not in session.queue_keys
    again = await site.auth.login("union1", OFFICER_OWN, site.totp("union1"))
    assert set(again.queue_keys) == {"union"}
    await site.engine.dispose()


async def test_new_password_must_differ_and_be_long(database_url: str) -> None:
    site = await build_site(database_url)
    session = await site.login("union1")
    for new in (PASSWORD, "short"):
        with pytest.raises(InvalidInput):
            await site.auth.change_password(session, PASSWORD, new)
    assert session.key_fingerprint == site.fingerprints["union1"]
    await site.engine.dispose()


async def test_attack_stolen_token_guesses_the_old_password(database_url: str) -> None:
    """Given a stolen token, when the thief guesses old passwords, then the session ends after
    a few, further guesses through another session wait, and the real officer's login is
    neither throttled nor delayed — and resets the guesses' wait."""
    site = await build_site(database_url)
    stolen = await site.login("union1")
    for attempt in range(1, WRONG_PER_SESSION + 1):
        with pytest.raises(AuthenticationFailed):
            await site.auth.change_password(stolen, f"guess number {attempt}", OFFICER_OWN)
        assert stolen.ended == (attempt == WRONG_PER_SESSION)
    assert stolen.queue_keys == {}  # wiped at once
    assert site.auth.throttle.failures("union1") == 0  # the login counter is untouched
    other = await site.login("union1")  # the officer logs in: no wait
    with pytest.raises(AuthenticationFailed):  # the ended session cannot go on, even knowing it
        await site.auth.change_password(stolen, PASSWORD, OFFICER_OWN)

    # Another stolen session meets the per-officer wait (the real login above reset it, so
    # build it up again without a login in between). The clock stands still: no flaky second.
    second = await site.login("union1")
    frozen = dt.datetime.now(dt.UTC)
    site.auth._passwords._clock = lambda: frozen
    for _ in range(WRONG_PER_SESSION):
        with pytest.raises(AuthenticationFailed):
            await site.auth.change_password(second, "a wrong guess again", OFFICER_OWN)
    with pytest.raises(TooManyAttempts):
        await site.auth.change_password(other, PASSWORD, OFFICER_OWN)
    assert site.auth.throttle.failures("union1") == 0
    fresh = await site.login("union1")  # the officer's own login is never held back …
    rotated = await site.auth.change_password(fresh, PASSWORD, OFFICER_OWN)  # … and resets it
    assert rotated.queues == ("union",)
    audit = await site.audit.page(await site.login("admin1"), 100, 0)
    failed = [e for e in audit if e.action == "password_change_failed"]
    assert len(failed) == 2 * WRONG_PER_SESSION
    assert sum(e.detail == "session ended" for e in failed) == 2
    assert "login_failed" not in {e.action for e in audit}
    await site.engine.dispose()


async def test_grant_racing_a_password_change_reaches_the_new_key(database_url: str) -> None:
    """A member grants while the officer changes the password: whichever commits first, the
    grant ends up sealed to the key the officer has afterwards, so the next login opens it."""
    site = await build_site(database_url)
    disc = await site.login("disc1")
    password = PASSWORD
    for round_ in range(4):
        session = await site.auth.login("union1", password, site.totp("union1"))
        new = f"{OFFICER_OWN} {round_}"
        fingerprint = site.fingerprints["union1"]
        results = await asyncio.gather(
            site.auth.change_password(session, password, new),
            site.membership.grant(disc, "discipline", "union1", fingerprint),
            return_exceptions=True,
        )
        rotated = results[0]
        assert not isinstance(rotated, BaseException), rotated
        site.fingerprints["union1"] = rotated.fingerprint
        password = new
        if isinstance(results[1], FingerprintMismatch):
            # The change won the lock; the member read the old fingerprint out too late.
            await site.membership.grant(disc, "discipline", "union1", rotated.fingerprint)
        else:
            assert not isinstance(results[1], BaseException), results[1]
        again = await site.auth.login("union1", password, site.totp("union1"))
        assert again.queue_key("discipline") == disc.queue_key("discipline")
        await site.membership.revoke(disc, "discipline", "union1")
    await site.engine.dispose()


async def test_two_changes_at_once_one_wins(database_url: str) -> None:
    """Two sessions of one officer change the password at once: one change goes through, the
    other is a Conflict (its old key was replaced meanwhile), and the winner's password opens
    the grants."""
    site = await build_site(database_url)
    first, second = await site.login("union1"), await site.login("union1")
    results = await asyncio.gather(
        site.auth.change_password(first, PASSWORD, "the first new password"),
        site.auth.change_password(second, PASSWORD, "the second new password"),
        return_exceptions=True,
    )
    won = [i for i, r in enumerate(results) if not isinstance(r, BaseException)]
    assert len(won) == 1, results
    assert isinstance(results[1 - won[0]], Conflict)
    password = ("the first new password", "the second new password")[won[0]]
    again = await site.auth.login("union1", password, site.totp("union1"))
    assert again.queue_key("union") == first.queue_key("union")
    await site.engine.dispose()
