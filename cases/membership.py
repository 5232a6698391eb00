"""Queue membership: a member grants the queue key to another officer, or revokes it.

The grant is the queue private key — opened from the granting member's own session — sealed to
the target officer's public key, so the server never holds it in the clear. A grant may expire
(time-limited secondment between the two bodies, 双向交流); expired grants are deleted.

A grant goes only to an activated account, and only to the key whose fingerprint the granting
member names — the one the colleague read out from their own session. An administrator can
create an account and even activate it before the officer does, but cannot make a member's
grant reach a key the colleague does not recognise (P3, separation of duties).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cases.categories import Queue
from cases.errors import (
    FingerprintMismatch,
    Forbidden,
    InvalidInput,
    NotFound,
    OfficerNotActivated,
)
from cases.officers import OfficerSession, purge_expired_grants
from cases.ports import GrantRecord, OfficerRecord, UnitOfWorkFactory
from cases.roles import CASEWORK_ROLES
from cases.runtime import Clock, utcnow
from storage.crypto import keys


def fingerprint_of(officer: OfficerRecord) -> str:
    """The fingerprint of the officer's current key (for audit rows)."""
    return keys.officer_key_fingerprint(officer.key.public_key)


def require_grantee(officer: OfficerRecord, fingerprint: str) -> None:
    """Refuse a grant to anyone but an enabled, activated casework officer whose current key
    has `fingerprint`. Shared by members' grants and the recovery-words grant."""
    # Administrators and overseers never hold a queue key (P3).
    if officer.disabled or officer.role not in CASEWORK_ROLES:
        raise InvalidInput("this officer may not hold a queue key")
    if not officer.activated:
        raise OfficerNotActivated(
            "this officer has not activated the account yet: at their first login they choose "
            "their own password, then tell you their key fingerprint"
        )
    # The actual fingerprint is not echoed: the granting member must have it from the colleague.
    if not keys.fingerprint_matches(fingerprint, officer.key.public_key):
        raise FingerprintMismatch(
            "this is not the fingerprint of the officer's key; ask them to read it out again "
            "from their own session (GET /auth/me)"
        )


@dataclass(frozen=True)
class MemberView:
    username: str
    granted_at: dt.datetime
    expires_at: dt.datetime | None


class MembershipService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock = utcnow) -> None:
        self._uow = uow
        self._clock = clock

    @staticmethod
    def _member_key(session: OfficerSession, queue: str) -> bytes:
        if queue not in set(Queue):
            raise NotFound("no such queue")
        key = session.queue_key(queue)
        if key is None:
            raise Forbidden("only members of this queue may do this")
        return key

    async def members(self, session: OfficerSession, queue: str) -> list[MemberView]:
        """Who holds the queue key (members only); the listing is audited."""
        self._member_key(session, queue)
        async with self._uow() as uow:
            await purge_expired_grants(uow, self._clock())
            members = await uow.accounts.members(queue)
            await uow.audit.append(
                at=self._clock(),
                officer_id=session.officer_id,
                action="members_listed",
                case_reference=None,
                detail=f"{queue}: {len(members)} rows",
            )
            await uow.commit()
        return [MemberView(m.username, m.granted_at, m.expires_at) for m in members]

    async def grant(
        self,
        session: OfficerSession,
        queue: str,
        username: str,
        fingerprint: str,
        expires_at: dt.datetime | None = None,
    ) -> MemberView:
        """Seal the queue key to `username`'s key, which must have `fingerprint`; returns the
        new membership as the member list shows it."""
        queue_private = self._member_key(session, queue)
        now = self._clock()
        if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
            raise InvalidInput("expires_at must be a future time with a time zone")
        async with self._uow() as uow:
            found = await uow.officers.by_username(username)
            # Held until commit: a password change (a new key) cannot slip in between reading
            # the officer's key and storing the grant sealed to it.
            officer = await uow.accounts.lock_officer(found.id) if found else None
            if officer is None:
                raise NotFound("no such officer")
            require_grantee(officer, fingerprint)
            sealed = keys.seal_queue_key(queue, officer.id, officer.key.public_key, queue_private)
            await uow.officers.put_grant(GrantRecord(queue, officer.id, sealed, expires_at), now)
            until = f" until {expires_at.isoformat()}" if expires_at else ""
            await uow.audit.append(
                at=now,
                officer_id=session.officer_id,
                action="key_granted",
                case_reference=None,
                detail=f"{queue} to {username}{until} (key {fingerprint_of(officer)})",
            )
            await uow.commit()
        return MemberView(username, now, expires_at)

    async def revoke(self, session: OfficerSession, queue: str, username: str) -> str:
        """Delete `username`'s grant; returns their officer id so live sessions drop the key."""
        self._member_key(session, queue)
        async with self._uow() as uow:
            officer = await uow.officers.by_username(username)
            if officer is None or not await uow.accounts.delete_grant(queue, officer.id):
                raise NotFound("this officer is not a member of the queue")
            await uow.audit.append(
                at=self._clock(),
                officer_id=session.officer_id,
                action="key_revoked",
                case_reference=None,
                detail=f"{queue} from {username}",
            )
            await uow.commit()
        return officer.id
