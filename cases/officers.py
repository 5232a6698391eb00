"""Officer login: the password unlocks the officer key, which opens the queue-key grants.

The unlocked keys live only in the returned `OfficerSession`, in memory (P4). `wipe` zeroes the
buffers on logout or expiry — best effort in Python, but it keeps them from lingering in a
session store.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from cases.errors import AuthenticationFailed
from cases.ports import UnitOfWorkFactory
from cases.runtime import Clock, KdfPool, utcnow
from storage.crypto import keys
from storage.crypto.primitives import KdfCost


@dataclass
class OfficerSession:
    """An authenticated officer and the queue private keys their grants opened."""

    officer_id: str
    username: str
    role: str
    queue_keys: dict[str, bytearray] = field(default_factory=dict, repr=False)

    def queue_key(self, queue: str) -> bytes | None:
        key = self.queue_keys.get(queue)
        return bytes(key) if key is not None else None

    def wipe(self) -> None:
        for key in self.queue_keys.values():
            key[:] = bytes(len(key))
        self.queue_keys.clear()


# A fixed dummy account so an unknown username costs the same Argon2 work as a wrong password,
# and the response time does not reveal whether the account exists.
_DUMMY_ID = "0" * 32


class AuthService:
    """Verify an officer's password and unlock their keys."""

    def __init__(
        self, uow: UnitOfWorkFactory, kdf: KdfPool, cost: KdfCost, clock: Clock = utcnow
    ) -> None:
        self._uow = uow
        self._kdf = kdf
        self._clock = clock
        self._dummy = keys.create_officer_key(_DUMMY_ID, "dummy password never used", cost)

    async def login(self, username: str, password: str) -> OfficerSession:
        """An unlocked session, or AuthenticationFailed (same error for every failure)."""
        async with self._uow() as uow:
            officer = await uow.officers.by_username(username)
            grants = await uow.officers.grants_of(officer.id) if officer else []
        if officer is None or officer.disabled:
            with contextlib.suppress(AuthenticationFailed):
                await self._kdf.run(keys.unlock_officer_key, _DUMMY_ID, self._dummy, password)
            raise AuthenticationFailed("wrong credentials")
        pair = await self._kdf.run(keys.unlock_officer_key, officer.id, officer.key, password)
        now = self._clock()
        session = OfficerSession(officer.id, officer.username, officer.role)
        for grant in grants:
            if grant.expires_at is not None and grant.expires_at <= now:
                continue
            private = keys.open_queue_key(grant.queue, officer.id, pair.private, grant.sealed_key)
            session.queue_keys[grant.queue] = bytearray(private)
        async with self._uow() as uow:
            await uow.audit.append(
                at=now, officer_id=officer.id, action="login", case_reference=None, detail=""
            )
            await uow.commit()
        return session
