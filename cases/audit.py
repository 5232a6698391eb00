"""Reading and verifying the hash-chained audit log (P6), and the audit rows that do not
belong to one service: refused case lookups.

Audit rows name officers, actions and case references, never report content, reporter
identifiers or officers' Telegram chats.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cases.officers import OfficerSession
from cases.ports import AuditEntry, UnitOfWork, UnitOfWorkFactory
from cases.references import ALPHABET, normalize_reference
from cases.roles import Role, require
from cases.runtime import Clock, utcnow

AUDIT_READERS = frozenset({Role.ADMINISTRATOR, Role.OVERSEER})
GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_broken_id: int | None
    reason: str | None
    head_hash: str


def probed_reference(text: str) -> str | None:
    """`text` as a stored reference (`K7Q2-9XMD`), or None when it cannot be one."""
    reference = normalize_reference(text)
    raw = reference.replace("-", "")
    if len(reference) == 9 and reference[4] == "-" and len(raw) == 8 and set(raw) <= set(ALPHABET):
        return reference
    return None


async def record_denied(
    uow: UnitOfWork, at: dt.datetime, session: OfficerSession, reference: str
) -> None:
    """`case_denied`: an officer asked for a case their queues do not hold (or none at all).

    The API answers 404 either way; this row lets an auditor see an officer probing another
    queue's cases. It carries the reference asked for and nothing else — no word on whether
    such a case exists. The caller is about to refuse, so whatever its transaction did is
    rolled back first and the row is committed alone, on the connection the caller already
    holds (a second one per refusal could exhaust the pool under a burst of probes).
    """
    await uow.rollback()
    await uow.audit.append(
        at=at,
        officer_id=session.officer_id,
        action="case_denied",
        case_reference=probed_reference(reference),
        detail="",
    )
    await uow.commit()


class AuditService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock = utcnow) -> None:
        self._uow = uow
        self._clock = clock

    async def page(
        self, session: OfficerSession, limit: int, offset: int, action: str | None = None
    ) -> list[AuditEntry]:
        """A page of the log, newest first; reading the log is itself audited."""
        require(session.role, AUDIT_READERS)
        async with self._uow() as uow:
            rows = await uow.audit_log.page(limit, offset, action)
            await uow.audit.append(
                at=self._clock(),
                officer_id=session.officer_id,
                action="audit_viewed",
                case_reference=None,
                detail=f"{len(rows)} rows",
            )
            await uow.commit()
        return rows

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

    async def verify_for(self, session: OfficerSession) -> Verification:
        """`verify` for an officer, audited once the walk is done (the head it reports is
        the one it checked)."""
        require(session.role, AUDIT_READERS)
        result = await self.verify()
        outcome = "ok" if result.ok else f"broken at row {result.first_broken_id}"
        async with self._uow() as uow:
            await uow.audit.append(
                at=self._clock(),
                officer_id=session.officer_id,
                action="audit_verified",
                case_reference=None,
                detail=f"{outcome}, {result.checked} rows",
            )
            await uow.commit()
        return result
