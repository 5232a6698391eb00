"""The audit log: list and verify (administrators and overseers)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from admin_api.deps import OfficerDep, ServicesDep
from admin_api.schemas import ErrorOut
from admin_api.schemas_admin import AuditEntryOut, AuditVerifyOut

router = APIRouter(prefix="/audit", tags=["audit"])
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut} for code in (401, 403, 422)}


@router.get("", responses=ERRORS)
async def audit_log(
    session: OfficerDep,
    services: ServicesDep,
    action: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[AuditEntryOut]:
    """Newest first. Reading the log is itself written to it (`audit_viewed`)."""
    rows = await services.audit.page(session, limit, offset, action)
    return [
        AuditEntryOut(
            id=r.id,
            at=r.at,
            officer_id=r.officer_id,
            action=r.action,
            case_reference=r.case_reference,
            detail=r.detail,
            hash=r.hash,
        )
        for r in rows
    ]


@router.get("/verify", responses=ERRORS)
async def verify(session: OfficerDep, services: ServicesDep) -> AuditVerifyOut:
    """Walk the hash chain; names the first broken row. Audited (`audit_verified`)."""
    result = await services.audit.verify_for(session)
    return AuditVerifyOut(
        ok=result.ok,
        checked=result.checked,
        first_broken_id=result.first_broken_id,
        reason=result.reason,
        head_hash=result.head_hash,
    )
