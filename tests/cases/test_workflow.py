"""The closed loop through the workflow service: every allowed step, forbidden ones, the
look-back loop, messages and internal notes."""

from __future__ import annotations

import datetime as dt

import pytest

from cases.casework import TriageDecision
from cases.categories import Routing
from cases.dispositions import Disposition
from cases.errors import Conflict, InvalidInput, InvalidTransition
from cases.lifecycle import TRANSITIONS, ReporterStatus, Status, allowed_from
from tests.factories import Site, build_site


async def _union_case(site: Site) -> str:
    _, submitted = await site.file_report()
    await site.casework.triage(
        await site.login("triage1"), submitted.reference, TriageDecision(routing=Routing.UNION)
    )
    return submitted.reference


def test_every_status_has_its_transitions_and_forbidden_ones_are_refused() -> None:
    for current, targets in TRANSITIONS.items():
        via_triage = current is Status.RECEIVED
        assert set(allowed_from(current, via_triage=via_triage)) == set(targets)
    assert Status.CLOSED not in TRANSITIONS[Status.ACCEPTED]
    assert Status.LOOK_BACK not in TRANSITIONS[Status.IN_PROGRESS]


async def test_whole_loop_with_a_failed_look_back(database_url: str) -> None:
    site = await build_site(database_url)
    receipt, submitted = await site.file_report()
    ref = submitted.reference
    await site.casework.triage(
        await site.login("triage1"), ref, TriageDecision(routing=Routing.UNION)
    )
    union = await site.login("union1")
    row = (await site.casework.list_cases(union))[0]
    assert row.due_on == row.received_on + dt.timedelta(days=60)
    assert not row.overdue
    with pytest.raises(InvalidTransition) as caught:
        await site.casework.close(union, ref, "done")
    assert caught.value.allowed == ["in_progress"]
    await site.casework.change_status(union, ref, Status.IN_PROGRESS, None)
    with pytest.raises(InvalidInput):  # a discipline disposition, not the union's
        await site.casework.set_disposition(union, ref, Disposition.TALK_INQUIRY, None)
    await site.casework.set_disposition(union, ref, Disposition.FORMAL_TALK_RECTIFICATION, None)
    due = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=20)
    summary = await site.casework.rectify(union, ref, "物业公司项目部", due, "请限期整改")
    assert summary.status == Status.RECTIFICATION
    assert summary.due_on == due
    await site.casework.change_status(union, ref, Status.LOOK_BACK, None)
    failed = await site.casework.look_back(union, ref, passed=False, note="整改未到位")
    assert failed.status == Status.RECTIFICATION
    assert failed.look_back_failures == 1
    await site.casework.change_status(union, ref, Status.LOOK_BACK, None)
    closed = await site.casework.look_back(union, ref, passed=True, note="工资已补发")
    assert closed.status == Status.CLOSED
    assert closed.look_back_failures == 1
    assert closed.due_on is None
    assert closed.closed_on == dt.datetime.now(dt.UTC).date()
    with pytest.raises(InvalidInput):
        await site.casework.reopen(union, ref, "  ")
    reopened = await site.casework.reopen(union, ref, "职工反映又欠薪")
    assert reopened.status == Status.IN_PROGRESS
    await site.casework.message(union, ref, "请补充欠薪月份")
    await site.casework.internal_note(union, ref, "仅内部可见：疑似与去年同一项目")
    await site.casework.extend(union, ref, "需要调取银行流水")
    with pytest.raises(Conflict):
        await site.casework.extend(union, ref, "again")
    detail = await site.casework.open_case(union, ref)
    kinds = [i.kind for i in detail.items]
    assert "rectification" in kinds
    assert "internal_note" in kinds
    assert detail.summary.due_on == detail.summary.received_on + dt.timedelta(days=90)
    internal = [i for i in detail.items if i.kind == "internal_note"]
    assert all(not i.reporter_visible for i in internal)
    # The reporter sees outcome, reopening reason and message — never an internal note.
    view = await site.intake.status(receipt)
    assert view is not None
    notes = [h.note for h in view.history if h.note]
    assert "工资已补发" in notes
    assert "职工反映又欠薪" in notes
    assert "请补充欠薪月份" in notes
    assert not any("仅内部可见" in n for n in notes)
    assert not any("银行流水" in n for n in notes)
    assert view.status is ReporterStatus.IN_PROGRESS
    await site.engine.dispose()


async def test_list_filters_and_sorting(database_url: str) -> None:
    site = await build_site(database_url)
    first = await _union_case(site)
    second = await _union_case(site)
    union = await site.login("union1")
    await site.casework.change_status(union, second, Status.IN_PROGRESS, None)
    assert [c.reference for c in await site.casework.list_cases(union, status="in_progress")] == [
        second
    ]
    assert await site.casework.list_cases(union, severity="urgent") == []
    assert len(await site.casework.list_cases(union, severity="normal")) == 2
    assert await site.casework.list_cases(union, overdue=True) == []
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    assert await site.casework.list_cases(union, received_from=tomorrow) == []
    assert len(await site.casework.list_cases(union, received_to=tomorrow, sort="due")) == 2
    page = await site.casework.list_cases(union, limit=1, offset=1)
    assert len(page) == 1
    assert {first, second} >= {page[0].reference}
    # Overdue: a clock 61 days on sees both cases past their handling deadline.
    site.casework._clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(days=61)
    overdue = await site.casework.list_cases(union, overdue=True)
    assert {c.reference for c in overdue} == {first, second}
    assert all(c.overdue for c in overdue)
    await site.engine.dispose()
