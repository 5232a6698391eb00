"""Password change: the officer's own new password, and under it a NEW officer keypair.

Why a new key rather than the old one re-wrapped: whoever knew the old password — an
administrator who activated the account before the officer and handed over "your login
details" — and kept a copy of the database could unwrap the old key from that copy for good,
and so every grant sealed to it. A change therefore makes a new keypair, re-seals every queue
grant of the officer to it (opened with the old key the old password just unlocked) in the same
transaction that stores the key, and returns the new fingerprint. A grant that does not open
with the old key — it could not be used at login either — is deleted and named in the result,
so the officer can ask for it again.

Wrong old passwords: a stolen bearer token must not become a password-guessing oracle, and its
guesses must not lock the real officer out of logging in. They are counted apart from the login
throttle (which is per username): per officer, with the same doubling waits, reset by the
officer's next successful login; and a session that gives `WRONG_PER_SESSION` of them ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from cases.account_rules import check_password
from cases.errors import AuthenticationFailed, Conflict, DecryptionError, InvalidInput
from cases.officer_session import OfficerSession
from cases.ports import OfficerRecord, UnitOfWorkFactory
from cases.runtime import Clock, KdfPool, utcnow
from cases.throttle import LoginThrottle
from storage.crypto import keys, officer_auth
from storage.crypto.primitives import KdfCost, new_keypair

# Wrong old passwords one session may give before it is ended.
WRONG_PER_SESSION = 3


@dataclass(frozen=True)
class KeyRotated:
    """The outcome of a password change: the new key's fingerprint and what it holds."""

    fingerprint: str
    queues: tuple[str, ...]  # grants re-sealed to the new key
    dropped: tuple[str, ...]  # grants that did not open with the old key, now deleted


class PasswordChange:
    """Change an officer's password, rotating their keypair and re-sealing their grants."""

    def __init__(
        self, uow: UnitOfWorkFactory, kdf: KdfPool, cost: KdfCost, clock: Clock = utcnow
    ) -> None:
        self._uow = uow
        self._kdf = kdf
        self._cost = cost
        self._clock = clock
        # Keyed by officer id, never by username: a separate counter from the login throttle.
        self.throttle = LoginThrottle(free=WRONG_PER_SESSION)

    async def change(self, session: OfficerSession, old: str, new: str) -> KeyRotated:
        """Verify `old`, wrap a new keypair under `new`, re-seal the grants; the new
        fingerprint is set on the session. AuthenticationFailed for a wrong old password."""
        if session.ended:
            raise AuthenticationFailed("log in again")
        if session.enrolment_pending:
            # Re-wrapping the placeholder would keep a key the administrator could open.
            raise Conflict("activate the account instead: POST /auth/totp, /auth/totp/confirm")
        self.throttle.check(session.officer_id, self._clock())
        check_password(new)
        if new == old:
            # Whoever knew the old password would be able to open the new key.
            raise InvalidInput("choose a new password, not the current one")
        async with self._uow() as uow:
            officer = await uow.officers.by_id(session.officer_id)
        if officer is None or officer.disabled or not officer.activated:
            session.end()  # disabled or reset meanwhile: this session is over
            raise AuthenticationFailed("log in again")
        if keys.officer_key_fingerprint(officer.key.public_key) != session.key_fingerprint:
            # Another session changed the password since this one logged in: the old password
            # is simply no longer the password, which is no wrong guess to count.
            raise Conflict("the account's key changed meanwhile; log in again")
        try:
            unlocked = await self._kdf.run(officer_auth.unlock, officer.id, officer.key, old)
        except AuthenticationFailed:
            raise await self._wrong_old_password(session) from None
        wrapped, totp_key = await self._kdf.run(
            officer_auth.wrap, officer.id, new_keypair(), new, self._cost
        )
        totp_wrapped = None
        if officer.totp_wrapped is not None:
            secret = officer_auth.open_totp(unlocked.totp_key, officer.id, officer.totp_wrapped)
            totp_wrapped = officer_auth.seal_totp(totp_key, officer.id, secret)
        rotated = await self._store(officer, unlocked.pair.private, wrapped, totp_wrapped)
        for queue in rotated.dropped:
            session.drop_queue(queue)
        session.key_fingerprint = rotated.fingerprint
        session.password_failures = 0
        self.throttle.succeeded(session.officer_id)
        return rotated

    async def _store(
        self,
        officer: OfficerRecord,
        old_private: bytes,
        wrapped: keys.WrappedOfficerKey,
        totp_wrapped: bytes | None,
    ) -> KeyRotated:
        """Re-seal the grants and store the new key in one transaction, holding the officer's
        row so that no grant can be sealed to the old key in between (`lock_officer`)."""
        fingerprint = keys.officer_key_fingerprint(wrapped.public_key)
        resealed: list[str] = []
        dropped: list[str] = []
        async with self._uow() as uow:
            current = await uow.accounts.lock_officer(officer.id)
            if current is None or current.key.public_key != officer.key.public_key:
                # A reset or another change replaced the key since it was read.
                raise Conflict("the account's key changed meanwhile; log in again")
            for grant in await uow.officers.grants_of(officer.id):
                try:
                    queue_private = keys.open_queue_key(
                        grant.queue, officer.id, old_private, grant.sealed_key
                    )
                except DecryptionError:
                    await uow.accounts.delete_grant(grant.queue, officer.id)
                    dropped.append(grant.queue)
                    continue
                sealed = keys.seal_queue_key(
                    grant.queue, officer.id, wrapped.public_key, queue_private
                )
                await uow.accounts.reseal_grant(grant.queue, officer.id, sealed)
                resealed.append(grant.queue)
            await uow.accounts.replace_key(officer.id, wrapped, totp_wrapped)
            was = keys.officer_key_fingerprint(officer.key.public_key)
            detail = f"key {fingerprint} (was {was}); grants: {', '.join(resealed) or 'none'}"
            if dropped:
                detail += f"; dropped, did not open: {', '.join(dropped)}"
            await uow.audit.append(
                at=self._clock(),
                officer_id=officer.id,
                action="password_changed",
                case_reference=None,
                detail=detail,
            )
            await uow.commit()
        return KeyRotated(fingerprint, tuple(sorted(resealed)), tuple(sorted(dropped)))

    async def _wrong_old_password(self, session: OfficerSession) -> AuthenticationFailed:
        """Count the failure (per officer, apart from logins), audit it, and end the session
        at the `WRONG_PER_SESSION`th."""
        now = self._clock()
        self.throttle.failed(session.officer_id, now)
        session.password_failures += 1
        ended = session.password_failures >= WRONG_PER_SESSION
        async with self._uow() as uow:
            await uow.audit.append(
                at=now,
                officer_id=session.officer_id,
                action="password_change_failed",
                case_reference=None,
                detail="session ended" if ended else "",
            )
            await uow.commit()
        if ended:
            session.end()
            return AuthenticationFailed("wrong password; the session has ended, log in again")
        return AuthenticationFailed("wrong password")
