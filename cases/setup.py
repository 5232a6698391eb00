"""Site initialisation and officer accounts as the CLI needs them.

`initialize` creates the site salt, the queue keypairs and the recovery key. Each queue private
key is kept only sealed: to the recovery key now, and to each member officer as they join.
"""

from __future__ import annotations

from dataclasses import dataclass

from cases.account_rules import check_password, check_username
from cases.categories import Queue
from cases.errors import Conflict, InvalidInput, NotFound
from cases.membership import fingerprint_of, require_grantee
from cases.ports import GrantRecord, OfficerRecord, QueueRecord, SiteParams, UnitOfWorkFactory
from cases.references import new_id
from cases.roles import CASEWORK_ROLES, Role
from cases.runtime import Clock, KdfPool, utcnow
from storage.crypto import keys
from storage.crypto.primitives import KdfCost, new_keypair, random_bytes


@dataclass(frozen=True)
class Initialized:
    """What `speakup init` must show once and then forget."""

    recovery_words: str
    # Goes into SPEAKUP_QUEUE_KEY_PIN: the processes then refuse swapped queue keys.
    queue_key_pin: str


class SetupService:
    """Initialise a site, add officers, and re-grant queue keys with the recovery words."""

    def __init__(
        self, uow: UnitOfWorkFactory, kdf: KdfPool, cost: KdfCost, clock: Clock = utcnow
    ) -> None:
        self._uow = uow
        self._kdf = kdf
        self._cost = cost
        self._clock = clock

    async def is_initialized(self) -> bool:
        async with self._uow() as uow:
            return await uow.site.get() is not None

    async def initialize(self) -> Initialized:
        """Create site parameters, queue keys and the recovery key; Conflict if done before."""
        words, recovery = keys.new_recovery_key()
        async with self._uow() as uow:
            if await uow.site.get() is not None:
                raise Conflict("this site is already initialised")
            params = SiteParams(random_bytes(16), self._cost, recovery.public)
            await uow.site.create(params, self._clock())
            publics: dict[str, bytes] = {}
            for queue in Queue:
                pair = new_keypair()
                publics[queue] = pair.public
                sealed = keys.seal_queue_key(
                    queue, keys.RECOVERY_HOLDER, recovery.public, pair.private
                )
                await uow.site.add_queue(QueueRecord(queue, pair.public, sealed))
            await uow.audit.append(
                at=self._clock(),
                officer_id=None,
                action="site_initialized",
                case_reference=None,
                detail="",
            )
            await uow.commit()
        return Initialized(recovery_words=words, queue_key_pin=keys.queue_key_pin(publics))

    async def has_administrator(self) -> bool:
        """Whether an administrator account exists (`speakup init` makes the first one)."""
        async with self._uow() as uow:
            return any(o.role == Role.ADMINISTRATOR for o in await uow.accounts.all())

    async def queue_key_pin(self) -> str:
        """The pin of the queue keys the database holds now (trust on first use)."""
        async with self._uow() as uow:
            queues = await uow.site.queues()
        if not queues:
            raise NotFound("the site is not initialised")
        return keys.queue_key_pin({q.name: q.public_key for q in queues})

    async def add_officer(self, username: str, role: str, password: str) -> str:
        """Create a not-yet-activated account under an initial password; returns its id.

        The keypair made here is a placeholder: whoever chose `password` could open it, so it
        never receives a grant. At first login the officer chooses their own password and gets
        a new keypair (`AuthService.activate`).
        """
        check_username(username)
        if role not in set(Role):
            raise InvalidInput(f"role must be one of {', '.join(Role)}")
        check_password(password)
        officer_id = new_id()
        wrapped = await self._kdf.run(keys.create_officer_key, officer_id, password, self._cost)
        async with self._uow() as uow:
            if await uow.officers.by_username(username) is not None:
                raise Conflict("an officer with this username exists")
            await uow.officers.add(
                OfficerRecord(officer_id, username, role, False, wrapped), self._clock()
            )
            await uow.audit.append(
                at=self._clock(),
                officer_id=None,
                action="officer_created",
                case_reference=None,
                detail=f"{username} as {role}",
            )
            await uow.commit()
        return officer_id

    async def grant_with_recovery(
        self, queue: str, username: str, recovery_words: str, fingerprint: str
    ) -> None:
        """Seal a queue key to an officer using the offline recovery key.

        Like a member's grant: only to an activated officer whose key has `fingerprint`."""
        if queue not in set(Queue):
            raise InvalidInput(f"queue must be one of {', '.join(Queue)}")
        recovery = keys.recovery_key_from_words(recovery_words)
        async with self._uow() as uow:
            site = await uow.site.get()
            found = await uow.officers.by_username(username)
            # Held until commit, as for a member's grant (`cases.membership`).
            officer = await uow.accounts.lock_officer(found.id) if found else None
            if site is None:
                raise NotFound("the site is not initialised")
            if officer is None:
                raise NotFound("no such officer")
            if officer.role not in CASEWORK_ROLES:
                # Administrators and overseers hold no queue key (P3, separation of duties).
                raise InvalidInput(f"an officer with the role {officer.role} holds no queue key")
            if recovery.public != site.recovery_public_key:
                raise InvalidInput("these are not this site's recovery words")
            require_grantee(officer, fingerprint)
            record = next(q for q in await uow.site.queues() if q.name == queue)
            queue_private = keys.open_queue_key(
                queue, keys.RECOVERY_HOLDER, recovery.private, record.sealed_for_recovery
            )
            sealed = keys.seal_queue_key(queue, officer.id, officer.key.public_key, queue_private)
            await uow.officers.put_grant(
                GrantRecord(queue, officer.id, sealed, None), self._clock()
            )
            await uow.audit.append(
                at=self._clock(),
                officer_id=None,
                action="key_granted_by_recovery",
                case_reference=None,
                detail=f"{queue} to {username} (key {fingerprint_of(officer)})",
            )
            await uow.commit()
