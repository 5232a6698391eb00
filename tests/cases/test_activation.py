"""Separation of duties at onboarding (P3): the administrator who creates or resets an account
chooses its initial password, and that must never let them read a queue granted to it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cases.errors import (
    AuthenticationFailed,
    Conflict,
    DecryptionError,
    FingerprintMismatch,
    OfficerNotActivated,
)
from storage.crypto import keys, officer_auth
from storage.crypto.primitives import new_keypair
from storage.models import Officer, QueueGrant
from tests.factories import INITIAL_PASSWORD, PASSWORD, Site, build_site

# What the administrator types when they make their own move on the account.
ADMIN_OWN_PASSWORD = "the administrator's own choice"


async def _new_colleague(site: Site) -> None:
    """The administrator creates union2 with an initial password they chose."""
    admin = await site.login("admin1")
    await site.accounts.create(admin, "union2", "union", INITIAL_PASSWORD)


async def test_attack_administrator_logging_in_first_gets_no_grant(database_url: str) -> None:
    """Given an account the administrator just created, when the administrator logs in with the
    initial password before the officer does, then neither a member nor the recovery words can
    grant that account a queue, whatever fingerprint is given."""
    site = await build_site(database_url)
    await _new_colleague(site)
    hijack = await site.auth.login("union2", INITIAL_PASSWORD)
    assert hijack.enrolment_pending
    assert hijack.queue_keys == {}
    async with site.uow() as uow:  # type: ignore[operator]
        placeholder = await uow.officers.by_username("union2")
    assert placeholder is not None
    # Even the fingerprint of the key the initial password wraps does not get a grant.
    fingerprint = keys.officer_key_fingerprint(placeholder.key.public_key)
    member = await site.login("union1")
    with pytest.raises(OfficerNotActivated):
        await site.membership.grant(member, "union", "union2", fingerprint)
    with pytest.raises(OfficerNotActivated):
        await site.setup.grant_with_recovery("union", "union2", site.recovery_words, fingerprint)
    async with site.engine.connect() as conn:
        grants = await conn.scalars(
            select(QueueGrant.queue).where(QueueGrant.officer_id == placeholder.id)
        )
        assert list(grants) == []
    await site.engine.dispose()


async def test_attack_administrator_racing_to_activation_gets_no_grant(database_url: str) -> None:
    """Given an account the administrator created, when the administrator activates it first
    with a password and authenticator of their own, then the officer cannot activate any more,
    and a member's grant naming any fingerprint the officer could have told them is refused."""
    site = await build_site(database_url)
    await _new_colleague(site)
    officer = await site.auth.login("union2", INITIAL_PASSWORD)  # the real officer, too late
    officer_enrolment = site.auth.begin_enrolment(officer)
    admins_fingerprint = await site.activate("union2", INITIAL_PASSWORD, ADMIN_OWN_PASSWORD)
    with pytest.raises(Conflict):  # only one activation wins
        await site.auth.activate(officer, site.totp_clock.code(officer_enrolment.secret), PASSWORD)
    with pytest.raises(AuthenticationFailed):  # and the officer finds they are locked out
        await site.auth.login("union2", INITIAL_PASSWORD)
    member = await site.login("union1")
    for told in (
        keys.officer_key_fingerprint(new_keypair().public),  # some other key's fingerprint
        admins_fingerprint[:-1] + ("0" if admins_fingerprint[-1] != "0" else "1"),
        "",
        "١٢٣٤-٥٦٧٨",
    ):
        with pytest.raises(FingerprintMismatch):
            await site.membership.grant(member, "union", "union2", told)
        with pytest.raises(FingerprintMismatch):
            await site.setup.grant_with_recovery("union", "union2", site.recovery_words, told)
    # What the administrator made of the account holds nothing.
    hijacked = await site.auth.login("union2", ADMIN_OWN_PASSWORD, site.totp("union2"))
    assert hijacked.queue_keys == {}
    await site.engine.dispose()


async def test_attack_dump_and_initial_password_open_nothing_granted(database_url: str) -> None:
    """Given a database dump taken while the account was new and the initial password the
    administrator chose, when the officer has activated and a member has granted the queue,
    then neither that dump's key nor today's row opens the grant with what the admin knew."""
    site = await build_site(database_url)
    await _new_colleague(site)
    async with site.engine.connect() as conn:
        before = (await conn.execute(select(Officer).where(Officer.username == "union2"))).one()
    fingerprint = await site.activate("union2")
    member = await site.login("union1")
    await site.membership.grant(member, "union", "union2", fingerprint)
    union2 = await site.login("union2")
    assert "union" in union2.queue_keys
    async with site.engine.connect() as conn:
        now = (await conn.execute(select(Officer).where(Officer.username == "union2"))).one()
        grant = await conn.scalar(
            select(QueueGrant.sealed_key).where(
                QueueGrant.officer_id == now.id, QueueGrant.queue == "union"
            )
        )
    assert grant is not None
    assert now.public_key != before.public_key  # a new key, not the placeholder re-wrapped
    async with site.uow() as uow:  # type: ignore[operator]
        officer = await uow.officers.by_username("union2")
    assert officer is not None
    old_key = keys.WrappedOfficerKey(
        before.public_key,
        before.kdf_salt,
        before.verifier,
        before.wrapped_private_key,
        officer.key.cost,
    )
    placeholder = officer_auth.unlock(officer.id, old_key, INITIAL_PASSWORD)  # opens, but …
    with pytest.raises(DecryptionError):  # … nothing was ever sealed to it
        keys.open_queue_key("union", officer.id, placeholder.pair.private, grant)
    with pytest.raises(AuthenticationFailed):
        officer_auth.unlock(officer.id, officer.key, INITIAL_PASSWORD)
    await site.engine.dispose()


def test_fingerprints_are_read_leniently_and_compared_strictly() -> None:
    public = new_keypair().public
    fingerprint = keys.officer_key_fingerprint(public)
    assert len(fingerprint) == 24
    assert fingerprint.count("-") == 4
    for typed in (
        fingerprint,
        fingerprint.upper(),
        fingerprint.replace("-", " "),
        fingerprint.replace("-", ""),
    ):
        assert keys.fingerprint_matches(typed, public)
    for typed in (
        fingerprint[:-1],
        fingerprint + "0",
        "",
        "１２３４",
        "ｆ" + fingerprint[1:],  # a full-width letter
    ):
        assert not keys.fingerprint_matches(typed, public)
    assert not keys.fingerprint_matches(fingerprint, new_keypair().public)
