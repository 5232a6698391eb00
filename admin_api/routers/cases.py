"""Cases: list (metadata only), detail (decrypts, audited), triage, status changes."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from admin_api.deps import OfficerDep, ServicesDep
from admin_api.schemas import (
    CaseDetailOut,
    CaseSummaryOut,
    ErrorOut,
    EventOut,
    IntakeOut,
    ItemOut,
    StatusIn,
    TriageIn,
)
from cases.casework import CaseSummary, TriageDecision

router = APIRouter(prefix="/cases", tags=["cases"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
    422: {"model": ErrorOut},
}


def _summary(case: CaseSummary) -> CaseSummaryOut:
    return CaseSummaryOut.model_validate({**asdict(case), "holders": list(case.holders)})


@router.get("", responses=ERRORS)
async def list_cases(
    session: OfficerDep,
    services: ServicesDep,
    queue: str | None = None,
    status: str | None = None,
    category: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[CaseSummaryOut]:
    """Cases held by your queues, newest first. Nothing is decrypted."""
    rows = await services.casework.list_cases(
        session, queue=queue, status=status, category=category, limit=limit, offset=offset
    )
    return [_summary(row) for row in rows]


@router.get("/{reference}", responses=ERRORS)
async def case_detail(reference: str, session: OfficerDep, services: ServicesDep) -> CaseDetailOut:
    """The decrypted case. Every call is written to the audit log."""
    detail = await services.casework.open_case(session, reference)
    return CaseDetailOut(
        case=_summary(detail.summary),
        not_accepted_reason=detail.not_accepted_reason,
        report=detail.report,
        items=[ItemOut.model_validate(asdict(item)) for item in detail.items],
        history=[EventOut.model_validate(asdict(event)) for event in detail.history],
        intake=None
        if detail.intake is None
        else IntakeOut.model_validate(
            {**asdict(detail.intake), "rules": list(detail.intake.rules)}
        ),
    )


@router.post("/{reference}/triage", responses=ERRORS)
async def triage(
    reference: str, body: TriageIn, session: OfficerDep, services: ServicesDep
) -> CaseSummaryOut:
    """Route to union, discipline or joint handling, or record as not accepted."""
    decision = TriageDecision(
        routing=body.routing,
        not_accepted_reason=body.not_accepted_reason,
        category=body.category,
        severity=body.severity,
        note=body.note,
    )
    return _summary(await services.casework.triage(session, reference, decision))


@router.post("/{reference}/status", responses=ERRORS)
async def change_status(
    reference: str, body: StatusIn, session: OfficerDep, services: ServicesDep
) -> CaseSummaryOut:
    """Move the case along its lifecycle; the note is shown to the reporter."""
    return _summary(
        await services.casework.change_status(session, reference, body.status, body.note)
    )
