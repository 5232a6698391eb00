"""Reading and verifying the hash-chained audit log (P6)."""

from __future__ import annotations

from dataclasses import dataclass

from cases.officers import OfficerSession
from cases.ports import AuditEntry, UnitOfWorkFactory
from cases.roles import Role, require

AUDIT_READERS = frozenset({Role.ADMINISTRATOR, Role.OVERSEER})
GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_broken_id: int | None
    reason: str | None
    head_hash: str


class AuditService:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def page(
        self, session: OfficerSession, limit: int, offset: int, action: str | None = None
    ) -> list[AuditEntry]:
        require(session.role, AUDIT_READERS)
        async with self._uow() as uow:
            return await uow.audit_log.page(limit, offset, action)

    async def verify(self) -> Verification:
        """Walk the chain from the start; the first row whose link or hash is wrong is named.

        An edited row fails its own hash; a deleted row breaks the next row's link. Deleting
        the newest rows cannot be seen from the chain alone, so `head_hash` is reported for
        keeping somewhere else.
        """
        from storage.repositories import audit_hash  # the one definition of the link

        async with self._uow() as uow:
            rows = await uow.audit_log.chain()
        prev = GENESIS_HASH
        for row in rows:
            if row.prev_hash != prev:
                return Verification(False, row.id, row.id, "link to previous row broken", prev)
            expected = audit_hash(
                prev, row.at, row.officer_id, row.action, row.case_reference, row.detail
            )
            if expected != row.hash:
                return Verification(False, row.id, row.id, "row content altered", prev)
            prev = row.hash
        return Verification(True, len(rows), None, None, prev)


async def verify_as(session: OfficerSession, service: AuditService) -> Verification:
    require(session.role, AUDIT_READERS)
    return await service.verify()
