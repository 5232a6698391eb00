"""The closed loop through the workflow service: every allowed move through the request that
makes it, every other request refused with what would work, the look-back loop, due-date
bounds, messages and internal notes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, update

from cases.casework import CaseSummary, TriageDecision
from cases.categories import NotAcceptedReason, Routing
from cases.dispositions import Disposition
from cases.errors import Conflict, InvalidInput, InvalidTransition
from cases.lifecycle import STEPS, ReporterStatus, Status, Step, allowed_from, via
from cases.officers import OfficerSession
from storage.models import Case, OutboxRow
from tests.factories import Site, build_site

TODAY = dt.datetime.now(dt.UTC).date()
SOON = TODAY + dt.timedelta(days=20)


@dataclass
class Officers:
    triage: OfficerSession
    union: OfficerSession


async def _officers(site: Site) -> Officers:
    return Officers(await site.login("triage1"), await site.login("union1"))


async def _case_in(site: Site, officers: Officers, status: Status) -> str:
    """A fresh case brought to `status` through the real requests, as officers would."""
    w, union = site.casework, officers.union
    _, submitted = await site.file_report()
    ref = submitted.reference
    if status is Status.RECEIVED:
        return ref
    if status is Status.NOT_ACCEPTED:
        decision = TriageDecision(not_accepted_reason=NotAcceptedReason.DUPLICATE)
        await w.triage(officers.triage, ref, decision)
        return ref
    await w.triage(officers.triage, ref, TriageDecision(routing=Routing.UNION))
    if status is Status.ACCEPTED:
        return ref
    await w.change_status(union, ref, Status.IN_PROGRESS, None)
    if status is Status.WAITING_REPORTER:
        await w.change_status(union, ref, Status.WAITING_REPORTER, "请补充欠薪月份")
    elif status is Status.CLOSED:
        await w.close(union, ref, "工资已补发")
    elif status in (Status.RECTIFICATION, Status.LOOK_BACK):
        await w.set_disposition(union, ref, Disposition.FORMAL_TALK_RECTIFICATION, None)
        await w.rectify(union, ref, "物业公司项目部", SOON, "请限期整改")
        if status is Status.LOOK_BACK:
            await w.change_status(union, ref, Status.LOOK_BACK, None)
    return ref


def _session_for(officers: Officers, status: Status) -> OfficerSession:
    """Triage holds received and not-accepted cases; the union holds the routed ones."""
    return officers.triage if status in (Status.RECEIVED, Status.NOT_ACCEPTED) else officers.union


Request = Callable[[], Awaitable[CaseSummary]]
# What each request can aim at: the bare status request any status, the others their own.
AIMS: dict[Step, tuple[Status, ...]] = {
    Step.TRIAGE: (Status.ACCEPTED, Status.NOT_ACCEPTED),
    Step.STATUS: tuple(Status),
    Step.RECTIFICATION: (Status.RECTIFICATION,),
    Step.LOOK_BACK: (Status.CLOSED, Status.RECTIFICATION),
    Step.CLOSE: (Status.CLOSED,),
    Step.REOPEN: (Status.IN_PROGRESS,),
}


def _request(site: Site, session: OfficerSession, ref: str, step: Step, target: Status) -> Request:
    """The service call behind each request of the admin API, aiming at `target`."""
    w = site.casework
    calls: dict[Step, Request] = {
        Step.TRIAGE: lambda: w.triage(
            session,
            ref,
            TriageDecision(routing=Routing.UNION)
            if target is not Status.NOT_ACCEPTED
            else TriageDecision(not_accepted_reason=NotAcceptedReason.DUPLICATE),
        ),
        Step.STATUS: lambda: w.change_status(session, ref, target, None),
        Step.RECTIFICATION: lambda: w.rectify(session, ref, "二车间", SOON, None),
        Step.LOOK_BACK: lambda: w.look_back(
            session, ref, passed=target is Status.CLOSED, note="回头看结果"
        ),
        Step.CLOSE: lambda: w.close(session, ref, "办结意见"),
        Step.REOPEN: lambda: w.reopen(session, ref, "职工反映又欠薪"),
    }
    return calls[step]


async def test_every_move_works_through_its_request_and_every_other_request_is_refused(
    database_url: str,
) -> None:
    """Drives the service for each (status, target) of the lifecycle — waiting_reporter
    included — and, from every status, every request aimed at a status it does not reach
    from there; each refusal names the allowed moves and the request for each."""
    site = await build_site(database_url)
    officers = await _officers(site)
    for current, moves in STEPS.items():
        for target, step in moves.items():
            ref = await _case_in(site, officers, current)
            done = await _request(site, _session_for(officers, current), ref, step, target)()
            assert done.status == target, (current, target, step)
    for current in Status:
        ref = await _case_in(site, officers, current)
        session = _session_for(officers, current)
        for step, targets in AIMS.items():
            if step is Step.TRIAGE and session is not officers.triage:
                continue  # triage cannot see a routed case at all (404, tested elsewhere)
            for target in targets:
                if STEPS[current].get(target) is step:
                    continue
                with pytest.raises(InvalidTransition) as caught:
                    await _request(site, session, ref, step, target)()
                assert caught.value.allowed == allowed_from(current), (current, step, target)
                assert caught.value.via == via(current)
        async with site.uow() as uow:  # type: ignore[operator]
            case = await uow.cases.by_reference(ref)
        assert case is not None
        assert case.status == current  # nothing a refused request did stuck
    await site.engine.dispose()


async def test_the_generic_status_request_refuses_moves_that_need_more(database_url: str) -> None:
    site = await build_site(database_url)
    officers = await _officers(site)
    union, w = officers.union, site.casework
    ref = await _case_in(site, officers, Status.IN_PROGRESS)
    # Closing needs an outcome text; rectification an owner unit and a due date.
    for target, request in ((Status.CLOSED, "close"), (Status.RECTIFICATION, "rectification")):
        with pytest.raises(InvalidTransition) as caught:
            await w.change_status(union, ref, target, "done")
        assert caught.value.via is not None
        assert caught.value.via[target] == request
        assert request in str(caught.value)
    # A failed look-back must be counted: not through the bare status request.
    look_back = await _case_in(site, officers, Status.LOOK_BACK)
    with pytest.raises(InvalidTransition) as caught:
        await w.change_status(union, look_back, Status.RECTIFICATION, None)
    assert caught.value.via == {"closed": "look-back", "rectification": "look-back"}
    failed = await w.look_back(union, look_back, passed=False, note=None)
    assert failed.look_back_failures == 1
    # Reopening needs a reason, through its own request.
    closed = await _case_in(site, officers, Status.CLOSED)
    with pytest.raises(InvalidTransition) as caught:
        await w.change_status(union, closed, Status.IN_PROGRESS, "reason")
    assert caught.value.via == {"in_progress": "reopen"}
    await site.engine.dispose()


async def test_steps_on_the_wrong_status_name_what_is_allowed(database_url: str) -> None:
    site = await build_site(database_url)
    officers = await _officers(site)
    union, w = officers.union, site.casework
    accepted = await _case_in(site, officers, Status.ACCEPTED)
    with pytest.raises(InvalidTransition) as caught:
        await w.set_disposition(union, accepted, Disposition.MEDIATION, None)
    assert caught.value.allowed == ["in_progress"]
    assert caught.value.via == {"in_progress": "status"}
    with pytest.raises(InvalidTransition) as caught:
        await w.reopen(union, accepted, "why")
    assert caught.value.allowed == ["in_progress"]
    in_progress = await _case_in(site, officers, Status.IN_PROGRESS)
    # A look-back result on a case not in look-back never closes it.
    with pytest.raises(InvalidTransition) as caught:
        await w.look_back(union, in_progress, passed=True, note="看起来没问题")
    assert caught.value.allowed == ["closed", "rectification", "waiting_reporter"]
    with pytest.raises(InvalidTransition):
        await w.look_back(union, in_progress, passed=False, note=None)
    closed = await _case_in(site, officers, Status.CLOSED)
    with pytest.raises(InvalidTransition) as caught:
        await w.extend(union, closed, "需要调取银行流水")
    assert caught.value.allowed == ["in_progress"]
    async with site.uow() as uow:  # type: ignore[operator]
        case = await uow.cases.by_reference(in_progress)
    assert case is not None
    assert case.status == Status.IN_PROGRESS
    assert case.closed_on is None
    await site.engine.dispose()


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
    assert row.deadline == "handling"
    assert not row.overdue
    with pytest.raises(InvalidTransition) as caught:
        await site.casework.close(union, ref, "done")
    assert caught.value.allowed == ["in_progress"]
    await site.casework.change_status(union, ref, Status.IN_PROGRESS, None)
    with pytest.raises(InvalidInput):  # a discipline disposition, not the union's
        await site.casework.set_disposition(union, ref, Disposition.TALK_INQUIRY, None)
    await site.casework.set_disposition(union, ref, Disposition.FORMAL_TALK_RECTIFICATION, None)
    summary = await site.casework.rectify(union, ref, "物业公司项目部", SOON, "请限期整改")
    assert summary.status == Status.RECTIFICATION
    assert summary.due_on == SOON
    assert summary.deadline == "rectification"
    look_back = await site.casework.change_status(union, ref, Status.LOOK_BACK, None)
    assert look_back.due_on == SOON + dt.timedelta(days=30)
    later = SOON + dt.timedelta(days=10)
    failed = await site.casework.look_back(
        union, ref, passed=False, note="整改未到位", due_on=later
    )
    assert failed.status == Status.RECTIFICATION
    assert failed.look_back_failures == 1
    assert failed.rectification_due_on == later
    assert failed.due_on == later
    await site.casework.change_status(union, ref, Status.LOOK_BACK, None)
    with pytest.raises(InvalidInput):  # passing needs the outcome the reporter reads
        await site.casework.look_back(union, ref, passed=True, note=" ")
    closed = await site.casework.look_back(union, ref, passed=True, note="工资已补发")
    assert closed.status == Status.CLOSED
    assert closed.look_back_failures == 1
    assert closed.due_on is None
    assert closed.closed_on == TODAY
    with pytest.raises(InvalidInput):
        await site.casework.reopen(union, ref, "  ")
    reopened = await site.casework.reopen(union, ref, "职工反映又欠薪")
    assert reopened.status == Status.IN_PROGRESS
    assert reopened.closed_on is None
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
    assert not any("物业公司" in n for n in notes)
    assert view.status is ReporterStatus.IN_PROGRESS
    await site.engine.dispose()


async def test_waiting_for_the_reporter_and_back_tells_the_reporter(database_url: str) -> None:
    site = await build_site(database_url)
    officers = await _officers(site)
    receipt, submitted = await site.file_report()
    ref = submitted.reference
    await site.casework.triage(officers.triage, ref, TriageDecision(routing=Routing.UNION))
    await site.casework.change_status(officers.union, ref, Status.IN_PROGRESS, None)
    waiting = await site.casework.change_status(
        officers.union, ref, Status.WAITING_REPORTER, "请问欠薪从几月开始？"
    )
    assert waiting.status == Status.WAITING_REPORTER
    assert waiting.deadline == "handling"
    view = await site.intake.status(receipt)
    assert view is not None
    assert view.status is ReporterStatus.WAITING_REPORTER
    assert view.history[-1].note == "请问欠薪从几月开始？"
    with pytest.raises(InvalidTransition):  # no closing while waiting for the reporter
        await site.casework.close(officers.union, ref, "x")
    back = await site.casework.change_status(officers.union, ref, Status.IN_PROGRESS, None)
    assert back.status == Status.IN_PROGRESS
    async with site.engine.connect() as conn:
        rows = await conn.scalar(select(func.count()).select_from(OutboxRow))
    # accepted, in progress, waiting for you, in progress: four reporter-visible changes.
    assert rows == 4
    await site.engine.dispose()


async def test_due_dates_officers_set_are_bounded(database_url: str) -> None:
    site = await build_site(database_url)
    officers = await _officers(site)
    union, w = officers.union, site.casework
    ref = await _case_in(site, officers, Status.IN_PROGRESS)
    await w.set_disposition(union, ref, Disposition.MEDIATION, None)
    too_far = TODAY + dt.timedelta(days=2 * 365 + 1)
    for wrong in (dt.date(9999, 12, 31), too_far, TODAY - dt.timedelta(days=1)):
        with pytest.raises(InvalidInput):
            await w.rectify(union, ref, "二车间", wrong, None)
    furthest = TODAY + dt.timedelta(days=2 * 365)
    assert (await w.rectify(union, ref, "二车间", furthest, None)).due_on == furthest
    await w.change_status(union, ref, Status.LOOK_BACK, None)
    with pytest.raises(InvalidInput):
        await w.look_back(union, ref, passed=False, note=None, due_on=dt.date(9999, 12, 31))
    await site.engine.dispose()


async def test_a_stored_far_due_date_does_not_break_the_look_back(database_url: str) -> None:
    """A rectification date stored before the bound existed (9999-12-31) still lets the case
    go into look-back and out of it: the look-back date is held at the calendar's end."""
    site = await build_site(database_url)
    officers = await _officers(site)
    ref = await _case_in(site, officers, Status.RECTIFICATION)
    async with site.engine.begin() as conn:
        await conn.execute(
            update(Case)
            .where(Case.reference == ref)
            .values(rectification_due_on=dt.date(9999, 12, 31), due_on=dt.date(9999, 12, 31))
        )
    look_back = await site.casework.change_status(officers.union, ref, Status.LOOK_BACK, None)
    assert look_back.due_on == dt.date.max
    closed = await site.casework.look_back(officers.union, ref, passed=True, note="已整改")
    assert closed.status == Status.CLOSED
    await site.engine.dispose()


async def test_list_filters_and_sorting(database_url: str) -> None:
    site = await build_site(database_url)
    officers = await _officers(site)
    first = await _case_in(site, officers, Status.ACCEPTED)
    second = await _case_in(site, officers, Status.ACCEPTED)
    union = officers.union
    await site.casework.change_status(union, second, Status.IN_PROGRESS, None)
    assert [c.reference for c in await site.casework.list_cases(union, status="in_progress")] == [
        second
    ]
    assert await site.casework.list_cases(union, severity="urgent") == []
    assert len(await site.casework.list_cases(union, severity="normal")) == 2
    assert await site.casework.list_cases(union, overdue=True) == []
    tomorrow = TODAY + dt.timedelta(days=1)
    assert await site.casework.list_cases(union, received_from=tomorrow) == []
    assert len(await site.casework.list_cases(union, received_to=tomorrow, sort="due")) == 2
    page = await site.casework.list_cases(union, limit=1, offset=1)
    assert len(page) == 1
    assert {first, second} >= {page[0].reference}
    # Overdue: a clock 61 days on sees both cases past their handling deadline.
    site.casework._clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(days=61)
    overdue = await site.casework.list_cases(union, overdue=True)
    assert {c.reference for c in overdue} == {first, second}
    assert all(c.overdue and c.overdue_reasons == ("handling",) for c in overdue)
    await site.engine.dispose()
