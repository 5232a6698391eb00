"""What casework services return: list rows and decrypted case views (frozen DTOs)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cases.categories import NotAcceptedReason, Routing, Severity
from cases.deadlines import Deadlines
from cases.ports import CaseRecord, IntakeMetaRecord


@dataclass(frozen=True)
class CaseSummary:
    """A list row: metadata only, nothing decrypted."""

    reference: str
    category: str
    severity: str
    status: str
    routing: str
    holders: tuple[str, ...]
    received_on: dt.date
    reporter_unreachable: bool
    due_on: dt.date | None = None
    overdue: bool = False
    disposition: str | None = None
    rectification_due_on: dt.date | None = None
    look_back_failures: int = 0
    closed_on: dt.date | None = None
    # Which deadline `due_on` is, and every deadline the case has missed (see cases.deadlines).
    deadline: str | None = None
    overdue_reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemView:
    kind: str
    text: str
    on: dt.date
    officer_id: str | None
    reporter_visible: bool


@dataclass(frozen=True)
class EventView:
    status: str
    reporter_status: str
    on: dt.date
    officer_id: str | None
    note: str | None


@dataclass(frozen=True)
class CaseDetail:
    summary: CaseSummary
    not_accepted_reason: str | None
    report: str
    items: tuple[ItemView, ...]
    history: tuple[EventView, ...]
    intake: IntakeMetaRecord | None = None


@dataclass(frozen=True)
class TriageDecision:
    """Route to a queue (or both), or not accept with a fixed reason and an optional note."""

    routing: Routing | None = None
    not_accepted_reason: NotAcceptedReason | None = None
    category: str | None = None
    severity: Severity | None = None
    note: str | None = None


def summary_row(case: CaseRecord, today: dt.date, deadlines: Deadlines) -> CaseSummary:
    """A list row, with the deadline its due date is and the deadlines it has missed."""
    missed = deadlines.missed(
        case.status, case.received_on, case.due_on, today, case.handling_due_on
    )
    return CaseSummary(
        reference=case.reference,
        category=case.category,
        severity=case.severity,
        status=case.status,
        routing=case.routing,
        holders=case.holders,
        received_on=case.received_on,
        reporter_unreachable=case.reporter_unreachable,
        due_on=case.due_on,
        overdue=bool(missed),
        disposition=case.disposition,
        rectification_due_on=case.rectification_due_on,
        look_back_failures=case.look_back_failures,
        closed_on=case.closed_on,
        deadline=deadlines.kind_of(
            case.status, case.received_on, case.due_on, case.handling_due_on
        ),
        overdue_reasons=tuple(str(m) for m in missed),
    )
