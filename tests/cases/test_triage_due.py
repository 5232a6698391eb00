"""A case still waiting for triage carries its triage due date, so `overdue` lists it."""

from __future__ import annotations

import datetime as dt

from cases.casework import TriageDecision
from cases.categories import Routing
from cases.deadlines import DeadlinePolicy, Deadlines
from cases.runtime import utcnow
from cases.workflow import WorkflowService
from tests.factories import build_site


async def test_received_case_is_overdue_after_its_triage_deadline(database_url: str) -> None:
    site = await build_site(database_url)
    _, submitted = await site.file_report()
    triage = await site.login("triage1")
    [row] = await site.casework.list_cases(triage)
    expected = Deadlines(DeadlinePolicy()).triage_due(row.received_on)
    assert row.status == "received"
    assert row.due_on == expected
    assert not row.overdue
    assert await site.casework.list_cases(triage, overdue=True) == []

    def later() -> dt.datetime:
        return utcnow().replace(year=expected.year, month=expected.month, day=expected.day) + (
            dt.timedelta(days=1)
        )

    late = WorkflowService(site.uow, clock=later)  # type: ignore[arg-type]
    [overdue] = await late.list_cases(triage, overdue=True)
    assert overdue.reference == submitted.reference
    assert overdue.overdue

    # Triage replaces the triage deadline with the handling deadline.
    routed = await site.casework.triage(
        triage, submitted.reference, TriageDecision(routing=Routing.UNION)
    )
    assert routed.due_on == routed.received_on + dt.timedelta(days=60)
    await site.engine.dispose()
