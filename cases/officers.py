"""Officer login: password + TOTP unlock the officer key, which opens the queue-key grants.

The unlocked keys live only in the returned `OfficerSession`, in memory (P4).

Activation. An account an administrator created or reset is *not activated*: its key is a
placeholder wrapped under the administrator-chosen (initial) password, and nothing may be
granted to it (`cases.membership`). The first login with the initial password yields a session
that can do nothing but activate (`EnrolmentRequired` everywhere else): enrol an authenticator
and choose the officer's own password, under which a NEW keypair is generated. So whatever the
administrator knew — the initial password, a database dump from before — opens no grant. The
key's fingerprint is shown to the officer, who tells it to the colleague granting a queue.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
from dataclasses import dataclass

from cases.account_rules import check_password
from cases.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    TooManyAttempts,
)
from cases.officer_session import OfficerSession as OfficerSession
from cases.password_change import KeyRotated, PasswordChange
from cases.ports import GrantRecord, OfficerRecord, UnitOfWork, UnitOfWorkFactory
from cases.runtime import Clock, KdfPool, utcnow
from cases.throttle import LoginThrottle
from storage.crypto import keys, officer_auth
from storage.crypto.primitives import KdfCost

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Enrolment:
    """What an authenticator app needs; shown once to the officer who is enrolling."""

    secret: str
    uri: str
    qr_png: bytes


# A fixed dummy account so an unknown username costs the same Argon2 work as a wrong password,
# and the response time does not reveal whether the account exists.
_DUMMY_ID = "0" * 32


class AuthService:
    """Verify an officer's password and TOTP code and unlock their keys."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        kdf: KdfPool,
        cost: KdfCost,
        clock: Clock = utcnow,
        throttle: LoginThrottle | None = None,
        totp_clock: Clock | None = None,
        max_waiting_logins: int = 16,
    ) -> None:
        self._uow = uow
        self._kdf = kdf
        # Logins in progress, and how many may wait beyond those the pool derives at once:
        # past that a login is refused before any Argon2, so a burst of anonymous attempts
        # costs this process a bounded queue, not minutes of KDF work.
        self._logins = 0
        self._max_logins = kdf.concurrency + max_waiting_logins
        self._cost = cost
        self._clock = clock
        # The time TOTP codes are checked against; tests step it to log in more than once in 30 s.
        self._totp_clock = totp_clock or clock
        self.throttle = throttle or LoginThrottle()
        self._passwords = PasswordChange(uow, kdf, cost, clock)
        self._dummy = keys.create_officer_key(_DUMMY_ID, "dummy password never used", cost)

    async def _fail(self, username: str) -> AuthenticationFailed:
        self.throttle.failed(username, self._clock())
        async with self._uow() as uow:
            # No username in the audit row: it could be a mistyped password or a real name.
            await uow.audit.append(
                at=self._clock(),
                officer_id=None,
                action="login_failed",
                case_reference=None,
                detail="",
            )
            await uow.commit()
        return AuthenticationFailed("wrong credentials")

    async def login(self, username: str, password: str, totp: str | None = None) -> OfficerSession:
        """An unlocked session, or AuthenticationFailed (same error for every failure).

        Whatever goes wrong after the throttle check — a wrong password, a wrong code, or an
        error nobody expected — is the same audited, throttled failure: an exception escaping
        only once the password was right would tell an attacker the password (an oracle).
        """
        self.throttle.check(username, self._clock())
        if self._logins >= self._max_logins:
            # Load shedding, not a wrong credential: neither throttled nor audited.
            waiting = self._logins - self._kdf.concurrency + 1
            raise TooManyAttempts(max(1, math.ceil(waiting / self._kdf.concurrency)))
        self._logins += 1
        try:
            return await self._login(username, password, totp)
        except AuthenticationFailed:
            raise await self._fail(username) from None
        except Exception as exc:
            log.warning("login failed unexpectedly: %s", type(exc).__name__)
            raise await self._fail(username) from None
        finally:
            self._logins -= 1

    async def _login(self, username: str, password: str, totp: str | None) -> OfficerSession:
        async with self._uow() as uow:
            await _purge_expired_grants(uow, self._clock())
            officer = await uow.officers.by_username(username)
            # Queried for unknown names too, so the response time does not tell them apart.
            grants = await uow.officers.grants_of(officer.id if officer else _DUMMY_ID)
            await uow.commit()
        if officer is None or officer.disabled:
            with contextlib.suppress(AuthenticationFailed):
                await self._kdf.run(officer_auth.unlock, _DUMMY_ID, self._dummy, password)
            raise AuthenticationFailed("wrong credentials")
        unlocked = await self._kdf.run(officer_auth.unlock, officer.id, officer.key, password)
        session = OfficerSession(officer.id, officer.username, officer.role)
        try:
            return await self._complete(session, officer, unlocked, grants, username, totp)
        except BaseException:
            session.wipe()  # keys opened before the failure must not linger
            raise

    async def _complete(
        self,
        session: OfficerSession,
        officer: OfficerRecord,
        unlocked: officer_auth.UnlockedOfficer,
        grants: list[GrantRecord],
        username: str,
        totp: str | None,
    ) -> OfficerSession:
        if not officer.activated:
            # The initial password only: the session may activate the account, nothing else.
            # No grant can exist for the placeholder key; none would be opened if it did.
            session.enrolment_pending = True
            grants = []
        else:
            if officer.totp_wrapped is None:  # an activated account always has one
                raise AuthenticationFailed("wrong credentials")
            secret = officer_auth.open_totp(unlocked.totp_key, officer.id, officer.totp_wrapped)
            step = officer_auth.matched_step(secret, totp or "", self._totp_clock())
            if step is None or not await self._claim_step(officer.id, step):
                raise AuthenticationFailed("wrong credentials")
            session.key_fingerprint = keys.officer_key_fingerprint(officer.key.public_key)
            session.activated_at = officer.activated_at
        now = self._clock()
        for grant in grants:
            private = keys.open_queue_key(
                grant.queue, officer.id, unlocked.pair.private, grant.sealed_key
            )
            session.queue_keys[grant.queue] = bytearray(private)
            if grant.expires_at is not None:
                session.grant_expiry[grant.queue] = grant.expires_at
        action = "login_enrolment" if session.enrolment_pending else "login"
        async with self._uow() as uow:
            if not session.enrolment_pending:
                # Read before this login's own row. An officer whose first login finds the
                # account already activated did not activate it: the response says so.
                latest = await uow.audit_log.latest_of(officer.id, ("login", "account_activated"))
                session.first_login_since_activation = latest == "account_activated"
            await uow.audit.append(
                at=now, officer_id=officer.id, action=action, case_reference=None, detail=""
            )
            await uow.commit()
        self.throttle.succeeded(username)
        # Whoever logs in with password and code may try password changes again at once.
        self._passwords.throttle.succeeded(officer.id)
        return session

    async def _claim_step(self, officer_id: str, step: int) -> bool:
        """Record `step` as the officer's last accepted TOTP step; False if it is not newer
        (a replayed code). One conditional UPDATE, so two racing logins cannot both win."""
        async with self._uow() as uow:
            claimed = await uow.accounts.claim_totp_step(officer_id, step)
            await uow.commit()
        return claimed

    def begin_enrolment(self, session: OfficerSession) -> Enrolment:
        """A fresh TOTP secret for a session that must activate; held in memory until then."""
        if not session.enrolment_pending:
            raise Conflict("this account is already activated")
        secret = officer_auth.new_totp_secret()
        session.pending_secret = secret
        uri = officer_auth.provisioning_uri(secret, session.username)
        return Enrolment(secret, uri, officer_auth.qr_png(uri))

    async def activate(self, session: OfficerSession, code: str, new_password: str) -> str:
        """Activate the account: a code from the new authenticator, the officer's own password,
        and a NEW keypair wrapped under it. Returns the new key's fingerprint.

        Only one activation can win (a conditional UPDATE): an administrator racing the officer
        with the initial password ends up with an account whose fingerprint the officer does
        not know, so no member's grant will name it.
        """
        secret = session.pending_secret
        if not session.enrolment_pending or secret is None:
            raise Conflict("start with POST /auth/totp: enrol the authenticator first")
        check_password(new_password)
        step = officer_auth.matched_step(secret, code, self._totp_clock())
        if step is None:
            raise InvalidInput("that code does not match; check the authenticator's clock")
        async with self._uow() as uow:
            officer = await uow.officers.by_id(session.officer_id)
        if officer is None or officer.activated:
            raise Conflict("this account is already activated")
        wrapped, totp_key = await self._kdf.run(
            officer_auth.activate, officer.id, officer.key, new_password, self._cost
        )
        sealed = officer_auth.seal_totp(totp_key, officer.id, secret)
        fingerprint = keys.officer_key_fingerprint(wrapped.public_key)
        now = self._clock()
        async with self._uow() as uow:
            if not await uow.accounts.claim_totp_step(officer.id, step):
                raise InvalidInput("that code does not match; check the authenticator's clock")
            if not await uow.accounts.activate(officer.id, wrapped, sealed, now):
                raise Conflict("this account is already activated")
            # Nothing may be granted to a placeholder key; make sure nothing outlives it.
            await uow.accounts.delete_grants_of(officer.id)
            await uow.audit.append(
                at=now,
                officer_id=officer.id,
                action="account_activated",
                case_reference=None,
                detail=f"key {fingerprint}",
            )
            await uow.commit()
        session.mark_activated(fingerprint, now)
        return fingerprint

    async def change_password(self, session: OfficerSession, old: str, new: str) -> KeyRotated:
        """A new password and, under it, a NEW keypair; every grant is re-sealed to it
        (`cases.password_change`). Returns the new fingerprint and the queues it holds."""
        return await self._passwords.change(session, old, new)


async def _purge_expired_grants(uow: UnitOfWork, now: dt.datetime) -> None:
    """Delete grants whose secondment ended, each with an audit row."""
    for member in await uow.accounts.delete_expired_grants(now):
        await uow.audit.append(
            at=now,
            officer_id=None,
            action="grant_expired",
            case_reference=None,
            detail=f"{member.queue} from {member.username}",
        )


purge_expired_grants = _purge_expired_grants
