"""A case's attachments: list them, download one (decrypted, audited like a view)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import Response
from pydantic import BaseModel

from admin_api.deps import OfficerDep, ServicesDep
from admin_api.schemas import ErrorOut
from cases.attachment_access import AttachmentAccess

router = APIRouter(prefix="/cases", tags=["cases"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (401, 403, 404, 422)
}
ItemId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


class AttachmentOut(BaseModel):
    item_id: str
    filename: str
    mime: str
    size: int


@router.get("/{reference}/attachments", responses=ERRORS)
async def list_attachments(
    reference: str, session: OfficerDep, services: ServicesDep
) -> list[AttachmentOut]:
    """The case's cleaned attachments: neutral names (attachment-1.jpg …), types and sizes."""
    rows = await AttachmentAccess(services.casework).catalogue(session, reference)
    return [
        AttachmentOut(item_id=r.item_id, filename=r.filename, mime=r.mime, size=r.size)
        for r in rows
    ]


@router.get(
    "/{reference}/attachments/{item_id}",
    responses={**ERRORS, 200: {"content": {"application/octet-stream": {}}}},
    response_class=Response,
)
async def download_attachment(
    reference: str, item_id: ItemId, session: OfficerDep, services: ServicesDep
) -> Response:
    """The decrypted file under its cleaned name. Every download is written to the audit log."""
    opened = await AttachmentAccess(services.casework).download(session, reference, item_id)
    filename = _SAFE_NAME.sub("_", opened.filename) or "attachment"
    return Response(
        content=opened.content,
        media_type=opened.mime,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
