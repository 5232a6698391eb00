"""The administrator's officer accounts: create, disable, enable, roles, password reset.

Administrators manage accounts but hold no queue key and cannot read a case (separation of
duties). A created or reset account is not activated: it has a placeholder key under the
password the administrator chose, which never receives a grant; the officer activates it at
first login with a password of their own and a new key (`cases.officers`). A reset therefore
loses the old officer key on purpose: the officer comes back with no queue key until a member
(or the recovery words) grants it again, naming the new key's fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass

from cases.account_rules import check_password
from cases.errors import Conflict, InvalidInput, NotFound
from cases.officers import OfficerSession
from cases.ports import OfficerRecord, UnitOfWork, UnitOfWorkFactory
from cases.roles import Role, require
from cases.runtime import Clock, KdfPool, utcnow
from cases.setup import SetupService
from storage.crypto import keys
from storage.crypto.primitives import KdfCost

ADMIN = frozenset({Role.ADMINISTRATOR})


@dataclass(frozen=True)
class OfficerView:
    username: str
    role: str
    disabled: bool
    totp_enrolled: bool
    queues: tuple[str, ...]
    activated: bool


class AccountService:
    """Account management for administrators. Returns officer ids so the API can end sessions."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        kdf: KdfPool,
        cost: KdfCost,
        setup: SetupService,
        clock: Clock = utcnow,
    ) -> None:
        self._uow = uow
        self._kdf = kdf
        self._cost = cost
        self._setup = setup
        self._clock = clock

    async def _audit(
        self, uow: UnitOfWork, session: OfficerSession, action: str, detail: str
    ) -> None:
        await uow.audit.append(
            at=self._clock(),
            officer_id=session.officer_id,
            action=action,
            case_reference=None,
            detail=detail,
        )

    async def _officer(self, uow: UnitOfWork, username: str) -> OfficerRecord:
        officer = await uow.officers.by_username(username)
        if officer is None:
            raise NotFound("no such officer")
        return officer

    async def list_officers(self, session: OfficerSession) -> list[OfficerView]:
        require(session.role, ADMIN)
        async with self._uow() as uow:
            officers = await uow.accounts.all()
            views = []
            for o in officers:
                grants = await uow.officers.grants_of(o.id)
                views.append(
                    OfficerView(
                        o.username,
                        o.role,
                        o.disabled,
                        o.totp_wrapped is not None,
                        tuple(sorted(g.queue for g in grants)),
                        o.activated,
                    )
                )
            await self._audit(uow, session, "officers_listed", f"{len(views)} rows")
            await uow.commit()
        return views

    async def create(
        self, session: OfficerSession, username: str, role: str, password: str
    ) -> OfficerView:
        """A new account, not activated, under the initial `password`; returns how it lists."""
        require(session.role, ADMIN)
        await self._setup.add_officer(username, role, password)
        async with self._uow() as uow:
            await self._audit(uow, session, "officer_created", f"{username} as {role}")
            await uow.commit()
        return OfficerView(
            username, role, disabled=False, totp_enrolled=False, queues=(), activated=False
        )

    async def set_disabled(self, session: OfficerSession, username: str, disabled: bool) -> str:
        require(session.role, ADMIN)
        async with self._uow() as uow:
            officer = await self._officer(uow, username)
            if officer.id == session.officer_id and disabled:
                raise Conflict("you cannot disable your own account")
            await uow.accounts.set_disabled(officer.id, disabled)
            action = "officer_disabled" if disabled else "officer_enabled"
            await self._audit(uow, session, action, username)
            await uow.commit()
        return officer.id

    async def set_role(self, session: OfficerSession, username: str, role: str) -> str:
        """Change a role. Queue grants go with the old role: need-to-know starts over."""
        require(session.role, ADMIN)
        if role not in set(Role):
            raise InvalidInput(f"role must be one of {', '.join(Role)}")
        async with self._uow() as uow:
            officer = await self._officer(uow, username)
            if officer.id == session.officer_id:
                raise Conflict("you cannot change your own role")
            await uow.accounts.set_role(officer.id, role)
            await uow.accounts.delete_grants_of(officer.id)
            await self._audit(uow, session, "role_changed", f"{username}: {officer.role}->{role}")
            await uow.commit()
        return officer.id

    async def reset_password(self, session: OfficerSession, username: str, password: str) -> str:
        """Back to not activated: a placeholder key under a new initial password, no
        authenticator, no grants. The officer activates again at their next login."""
        require(session.role, ADMIN)
        check_password(password)
        async with self._uow() as uow:
            officer = await self._officer(uow, username)
        wrapped = await self._kdf.run(keys.create_officer_key, officer.id, password, self._cost)
        async with self._uow() as uow:
            await uow.accounts.reset_key(officer.id, wrapped)
            await uow.accounts.delete_grants_of(officer.id)
            await self._audit(uow, session, "password_reset", username)
            await uow.commit()
        return officer.id
