"""Officers reading a case's attachments: list them, download one. Each read is audited.

Decryption goes through the case key opened with a queue key the officer holds, exactly as for
the case detail (P3): the route checks are a second line, not the only one.
"""

from __future__ import annotations

from dataclasses import dataclass

from cases.attachments import ATTACHMENT_KIND, OpenedAttachment, open_attachment
from cases.casework import CaseworkService
from cases.errors import NotFound
from cases.officers import OfficerSession
from cases.roles import CASEWORK_ROLES, require


@dataclass(frozen=True)
class AttachmentInfo:
    item_id: str
    filename: str
    mime: str
    size: int


class AttachmentAccess:
    """Attachments of the cases an officer's queues hold."""

    def __init__(self, casework: CaseworkService) -> None:
        self._casework = casework

    async def catalogue(self, session: OfficerSession, reference: str) -> list[AttachmentInfo]:
        """Names, types and sizes of a case's attachments (decrypted, so audited)."""
        opened = await self._open(session, reference, None, "attachments_listed")
        return [AttachmentInfo(i, a.filename, a.mime, len(a.content)) for i, a in opened]

    async def download(
        self, session: OfficerSession, reference: str, item_id: str
    ) -> OpenedAttachment:
        """One attachment, decrypted; written to the audit log like a case view."""
        [(_, attachment)] = await self._open(session, reference, item_id, "attachment_viewed")
        return attachment

    async def _open(
        self, session: OfficerSession, reference: str, item_id: str | None, action: str
    ) -> list[tuple[str, OpenedAttachment]]:
        require(session.role, CASEWORK_ROLES)
        casework = self._casework
        # The service's own loading and key opening: same visibility and key rules as a view.
        async with casework._uow() as uow:
            case = await casework._load(uow, session, reference)
            items = [
                i
                for i in await uow.cases.items(case.id)
                if i.kind == ATTACHMENT_KIND and item_id in (None, i.id)
            ]
            if item_id is not None and not items:
                raise NotFound("no such attachment in this case")
            case_private = await casework._open_case_key(uow, session, case)
            opened = [(i.id, open_attachment(case_private, case.id, i.id, i.sealed)) for i in items]
            await uow.audit.append(
                at=casework._clock(),
                officer_id=session.officer_id,
                action=action,
                case_reference=case.reference,
                detail=item_id or "",
            )
            await uow.commit()
        return opened
