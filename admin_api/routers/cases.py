"""Cases: list (metadata only), detail (decrypts, audited), triage, status changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AfterValidator

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
from admin_api.schemas_cases import (
    DispositionIn,
    LookBackIn,
    RectificationIn,
    TextIn,
)
from cases.casework import CaseSummary, TriageDecision
from cases.categories import CATEGORIES, Queue, Severity
from cases.lifecycle import Status

router = APIRouter(prefix="/cases", tags=["cases"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut},
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
    422: {"model": ErrorOut},
}


def _known_category(code: str | None) -> str | None:
    if code is not None and code not in CATEGORIES:
        raise ValueError("not a category code")
    return code


# An unknown value in any filter is 422 naming the field, never an empty list that reads as
# "no such cases" (a typo in `status=in_progres` would otherwise hide every case).
CategoryFilter = Annotated[
    str | None,
    Query(json_schema_extra={"enum": sorted(CATEGORIES)}),
    AfterValidator(_known_category),
]


def _summary(case: CaseSummary) -> CaseSummaryOut:
    return CaseSummaryOut.model_validate({**asdict(case), "holders": list(case.holders)})


@router.get("", responses=ERRORS)
async def list_cases(
    session: OfficerDep,
    services: ServicesDep,
    queue: Queue | None = None,
    status: Status | None = None,
    category: CategoryFilter = None,
    severity: Severity | None = None,
    overdue: bool = False,
    received_from: dt.date | None = None,
    received_to: dt.date | None = None,
    sort: Annotated[str, Query(pattern="^(received|due)$")] = "received",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[CaseSummaryOut]:
    """Cases held by your queues (newest first, or soonest due). Nothing is decrypted."""
    rows = await services.casework.list_cases(
        session,
        queue=queue,
        status=status,
        category=category,
        limit=limit,
        offset=offset,
        severity=severity,
        overdue=overdue,
        received_from=received_from,
        received_to=received_to,
        sort=sort,
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
    """A move that needs nothing more (accepted → in_progress, in_progress ⇄
    waiting_reporter, rectification → look_back); the note is shown to the reporter. Other
    moves are 409 with `allowed` and `via`, the request that makes each."""
    return _summary(
        await services.casework.change_status(session, reference, body.status, body.note)
    )


@router.post("/{reference}/disposition", responses=ERRORS)
async def set_disposition(
    reference: str, body: DispositionIn, session: OfficerDep, services: ServicesDep
) -> CaseSummaryOut:
    """Your queue's disposition of an in-progress case (DESIGN §4). The note stays internal
    unless `reporter_visible` is true."""
    return _summary(
        await services.casework.set_disposition(
            session,
            reference,
            body.disposition,
            body.note,
            reporter_visible=body.reporter_visible,
        )
    )


@router.post("/{reference}/rectification", responses=ERRORS)
async def rectification(
    reference: str, body: RectificationIn, session: OfficerDep, services: ServicesDep
) -> CaseSummaryOut:
    """Order rectification of an in-progress case by an owner unit until a due date (at most
    two years ahead)."""
    return _summary(
        await services.casework.rectify(session, reference, body.owner_unit, body.due_on, body.note)
    )


@router.post("/{reference}/look-back", responses=ERRORS)
async def look_back(
    reference: str, body: LookBackIn, session: OfficerDep, services: ServicesDep
) -> CaseSummaryOut:
    """回头看 result of a case in look-back: passed closes it (the note is the outcome); failed
    returns it to rectification, counted (optionally with a new due date)."""
    return _summary(
        await services.casework.look_back(
            session, reference, passed=body.passed, note=body.note, due_on=body.due_on
        )
    )


@router.post("/{reference}/close", responses=ERRORS)
async def close(
    reference: str, body: TextIn, session: OfficerDep, services: ServicesDep
) -> CaseSummaryOut:
    """Close an in-progress or not-accepted case with an outcome text the reporter reads."""
    return _summary(await services.casework.close(session, reference, body.text))


@router.post("/{reference}/reopen", responses=ERRORS)
async def reopen(
    reference: str, body: TextIn, session: OfficerDep, services: ServicesDep
) -> CaseSummaryOut:
    """Reopen a closed case; the reason is shown to the reporter."""
    return _summary(await services.casework.reopen(session, reference, body.text))


@router.post("/{reference}/extension", responses=ERRORS)
async def extend(
    reference: str, body: TextIn, session: OfficerDep, services: ServicesDep
) -> CaseSummaryOut:
    """The one 30-day extension of the handling deadline of a case being handled, with an
    internal reason."""
    return _summary(await services.casework.extend(session, reference, body.text))


@router.post("/{reference}/messages", responses=ERRORS)
async def message(
    reference: str, body: TextIn, session: OfficerDep, services: ServicesDep
) -> CaseSummaryOut:
    """A message to the reporter (sealed to case and reporter keys, delivered via the outbox)."""
    return _summary(await services.casework.message(session, reference, body.text))


@router.post("/{reference}/notes", status_code=204, responses=ERRORS)
async def note(reference: str, body: TextIn, session: OfficerDep, services: ServicesDep) -> None:
    """An internal note, sealed to the case key only; the reporter never sees it."""
    await services.casework.internal_note(session, reference, body.text)
