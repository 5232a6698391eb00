"""Retention: the purge removes exactly what its dry run listed, keeps a content-free audit
event, and notify links go 30 days after closing (and at once on opt-out). A not-accepted case
is closed as of the decision: nobody has to close it by hand for it to go."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from bot.cli import main
from cases.casework import TriageDecision
from cases.categories import NotAcceptedReason, Routing
from cases.dispositions import Disposition
from cases.intake import NotifyLevel
from cases.lifecycle import Status
from cases.officers import OfficerSession
from cases.ports_notify import RetentionCase
from cases.retention import RetentionPlan, RetentionPolicy, RetentionService
from cases.runtime import utcnow
from storage.models import AuditRow, Case, CaseItem
from tests.factories import REPORT_TEXT, Site, build_site


async def _linked_case(site: Site, chat_id: int) -> tuple[str, str]:
    _, submitted = await site.file_report()
    await site.intake.set_notifications(
        submitted.case_id,
        NotifyLevel.FULL,
        chat_id=chat_id,
        language="en",
        reporter_seed=submitted.reporter_seed,
    )
    return submitted.case_id, submitted.reference


async def test_purge_removes_exactly_what_the_dry_run_listed(database_url: str) -> None:
    site = await build_site(database_url)
    triage = await site.login("triage1")
    union = await site.login("union1")
    rejected_id, rejected = await _linked_case(site, 1)
    worked_id, worked = await _linked_case(site, 2)
    open_id, still_open = await _linked_case(site, 3)
    reason = next(iter(NotAcceptedReason))
    await site.casework.triage(triage, rejected, TriageDecision(not_accepted_reason=reason))
    await site.casework.triage(triage, worked, TriageDecision(routing=Routing.UNION))
    await site.casework.change_status(union, worked, Status.IN_PROGRESS, None)
    await site.casework.close(union, worked, "done")
    async with site.engine.connect() as conn:
        closed = dict((await conn.execute(select(Case.reference, Case.closed_on))).all())
    assert closed[rejected] == utcnow().date()
    assert closed[worked] == utcnow().date()
    assert closed[still_open] is None

    policy = RetentionPolicy()

    def service(days: int) -> RetentionService:
        return RetentionService(
            site.uow,  # type: ignore[arg-type]
            policy,
            clock=lambda: utcnow() + dt.timedelta(days=days),
        )

    # Day 29: nothing yet.
    plan = await service(29).run(dry_run=True)
    assert plan.cases == ()
    assert plan.links == ()
    # Day 31: both links go, no case.
    plan = await service(31).run(dry_run=True)
    assert plan.cases == ()
    assert set(plan.links) == {rejected, worked}
    # Day 61: the not-accepted case goes; the worked case only loses its link.
    dry = await service(61).run(dry_run=True)
    assert [p.reference for p in dry.cases] == [rejected]
    assert dry.cases[0].rule == "short"
    assert dry.links == (worked,)
    # The dry run changed nothing.
    async with site.uow() as uow:  # type: ignore[operator]
        assert await uow.cases.by_id(rejected_id) is not None
        assert await uow.outbox.get_link(worked_id) is not None

    done = await service(61).run(dry_run=False)
    assert done == dry
    async with site.uow() as uow:  # type: ignore[operator]
        assert await uow.cases.by_id(rejected_id) is None
        assert await uow.cases.by_id(worked_id) is not None
        assert await uow.outbox.get_link(worked_id) is None
        assert await uow.outbox.get_link(open_id) is not None
    async with site.engine.connect() as conn:
        items = (await conn.execute(select(CaseItem.case_id))).scalars().all()
        audit = (
            await conn.execute(
                select(AuditRow.case_reference, AuditRow.detail).where(
                    AuditRow.action == "case_purged"
                )
            )
        ).all()
    assert rejected_id not in items
    assert [tuple(row) for row in audit] == [(rejected, "retention:short")]
    assert REPORT_TEXT[:5] not in str(audit)
    # Nothing left to do the same day; three years on the worked case goes too.
    assert (await service(61).run(dry_run=True)).cases == ()
    late = await service(3 * 365 + 1).run(dry_run=False)
    assert [p.reference for p in late.cases] == [worked]
    await site.engine.dispose()


async def test_reopening_clears_the_closing_date(database_url: str) -> None:
    site = await build_site(database_url)
    triage = await site.login("triage1")
    union = await site.login("union1")
    _, reference = await _linked_case(site, 4)
    await site.casework.triage(triage, reference, TriageDecision(routing=Routing.UNION))
    await site.casework.change_status(union, reference, Status.IN_PROGRESS, None)
    await site.casework.close(union, reference, "done")
    await site.casework.reopen(union, reference, "new facts")
    async with site.engine.connect() as conn:
        closed_on = await conn.scalar(select(Case.closed_on).where(Case.reference == reference))
    assert closed_on is None
    await site.engine.dispose()


async def test_a_not_accepted_case_and_its_link_go_after_the_decision_whatever_else_happens(
    database_url: str,
) -> None:
    """The notify link (chat id and reporter seed) of a not-accepted case goes 30 days after the
    decision and the case 60 days after it — also when an officer closes it later with an
    outcome, which does not restart the clock."""
    site = await build_site(database_url)
    triage = await site.login("triage1")
    reason = NotAcceptedReason.OUT_OF_SCOPE
    left_id, left = await _linked_case(site, 7)
    closed_id, closed = await _linked_case(site, 8)
    for reference in (left, closed):
        await site.casework.triage(triage, reference, TriageDecision(not_accepted_reason=reason))
    decided = utcnow().date()
    # Twenty days on, an officer closes one of them with an outcome text.
    site.casework._clock = lambda: utcnow() + dt.timedelta(days=20)
    after = await site.casework.close(triage, closed, "已转交劳动监察部门")
    assert after.status == Status.CLOSED
    assert after.closed_on == decided

    def run(days: int) -> RetentionService:
        return RetentionService(
            site.uow,  # type: ignore[arg-type]
            RetentionPolicy(),
            clock=lambda: utcnow() + dt.timedelta(days=days),
        )

    assert await run(29).run(dry_run=False) == RetentionPlan((), ())
    links = await run(31).run(dry_run=False)
    assert set(links.links) == {left, closed}
    async with site.uow() as uow:  # type: ignore[operator]
        assert await uow.outbox.get_link(left_id) is None
        assert await uow.outbox.get_link(closed_id) is None
        assert await uow.cases.by_id(left_id) is not None
    assert (await run(59).run(dry_run=False)).cases == ()
    purged = await run(61).run(dry_run=False)
    assert {(p.reference, p.rule) for p in purged.cases} == {(left, "short"), (closed, "short")}
    async with site.uow() as uow:  # type: ignore[operator]
        assert await uow.cases.by_id(left_id) is None
        assert await uow.cases.by_id(closed_id) is None
    await site.engine.dispose()


async def test_opting_out_deletes_the_notify_link(database_url: str) -> None:
    site = await build_site(database_url)
    case_id, _ = await _linked_case(site, 5)
    async with site.uow() as uow:  # type: ignore[operator]
        assert await uow.outbox.get_link(case_id) is not None
    await site.intake.set_notifications(
        case_id, NotifyLevel.OFF, chat_id=5, language="en", reporter_seed=b"\0" * 32
    )
    async with site.uow() as uow:  # type: ignore[operator]
        assert await uow.outbox.get_link(case_id) is None
    await site.engine.dispose()


def test_cli_dry_run_lists_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SPEAKUP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SPEAKUP_ENVIRONMENT", "test")
    monkeypatch.setenv("SPEAKUP_RETENTION_SHORT_DAYS", "0")
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("SPEAKUP_DATABASE_URL", url)

    async def prepare() -> str:
        site = await build_site(url)
        triage = await site.login("triage1")
        _, reference = await _linked_case(site, 6)
        reason = next(iter(NotAcceptedReason))
        await site.casework.triage(triage, reference, TriageDecision(not_accepted_reason=reason))
        await site.engine.dispose()
        return reference

    reference = asyncio.run(prepare())
    assert main(["retention", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would purge 1 case(s)" in out
    assert reference in out
    assert main(["retention", "--dry-run"]) == 0
    assert reference in capsys.readouterr().out  # still there: the dry run purged nothing
    assert main(["retention"]) == 0
    assert "purged 1 case(s)" in capsys.readouterr().out
    assert main(["retention", "--dry-run"]) == 0
    assert "would purge 0 case(s)" in capsys.readouterr().out


NOT_ACCEPTED = ("received", "not_accepted")
HANDLED = ("received", "accepted", "in_progress")
REOPENED = ("closed", "in_progress")


@pytest.mark.parametrize(
    ("reason", "disposition", "history", "rule"),
    [
        (None, None, (*HANDLED, "closed"), "long"),
        ("duplicate", None, NOT_ACCEPTED, "short"),  # not accepted
        ("duplicate", None, (*NOT_ACCEPTED, "closed"), "short"),  # closed with an outcome
        ("duplicate", None, (*NOT_ACCEPTED, "closed", "closed"), "short"),  # a message after
        # Not accepted, then reopened and handled: the reason stays, the outcome changed.
        ("duplicate", None, (*NOT_ACCEPTED, *REOPENED, "closed"), "long"),
        (None, "cleared", (*HANDLED, "closed"), "short"),  # unfounded: 澄清正名
        (None, "cleared", (*HANDLED, "rectification", "look_back", "closed"), "long"),
        (None, "cleared", (*HANDLED, *REOPENED, "closed"), "long"),
        (None, "mediation", (*HANDLED, "closed"), "long"),
    ],
)
def test_short_period_only_when_not_accepted_or_unfounded_was_the_one_outcome(
    reason: str | None, disposition: str | None, history: tuple[str, ...], rule: str
) -> None:
    case = RetentionCase(
        "id", "ABCD-EFGH", dt.date(2026, 1, 1), reason, False, disposition, history
    )
    assert RetentionPolicy().period(case)[0] == rule


def _days_on(site: Site, days: int) -> RetentionService:
    return RetentionService(
        site.uow,  # type: ignore[arg-type]
        RetentionPolicy(),
        clock=lambda: utcnow() + dt.timedelta(days=days),
    )


async def _rectified_and_closed(site: Site, session: OfficerSession, reference: str) -> None:
    due = utcnow().date() + dt.timedelta(days=10)
    await site.casework.rectify(session, reference, "人力资源部", due, None)
    await site.casework.change_status(session, reference, Status.LOOK_BACK, None)
    await site.casework.look_back(session, reference, passed=True, note="整改到位")


async def test_a_reopened_not_accepted_case_is_kept_for_the_long_period(database_url: str) -> None:
    # Given a report first not accepted and closed, then reopened on new facts, rectified and
    # closed after a passed look-back (the not-accepted reason is still on the row)...
    site = await build_site(database_url)
    triage = await site.login("triage1")
    _, reference = await _linked_case(site, 9)
    reason = NotAcceptedReason.INSUFFICIENT_DETAIL
    await site.casework.triage(triage, reference, TriageDecision(not_accepted_reason=reason))
    await site.casework.close(triage, reference, "材料不足，暂不受理")
    await site.casework.reopen(triage, reference, "职工补充了工资条")
    await _rectified_and_closed(site, triage, reference)
    async with site.engine.connect() as conn:
        row = (await conn.execute(select(Case).where(Case.reference == reference))).one()
    assert (row.status, row.not_accepted_reason) == (Status.CLOSED, reason)

    # ...then the handled case is not purged after 60 days, only after three years.
    assert (await _days_on(site, 61).run(dry_run=False)).cases == ()
    async with site.uow() as uow:  # type: ignore[operator]
        assert await uow.cases.by_id(row.id) is not None
    late = await _days_on(site, 3 * 365 + 1).run(dry_run=True)
    assert [(p.reference, p.rule) for p in late.cases] == [(reference, "long")]
    await site.engine.dispose()


async def test_unfounded_only_when_cleared_was_the_one_outcome(database_url: str) -> None:
    # Given three union cases disposed of as 澄清正名 (the person named was cleared): one closed
    # so, one then ordered rectified, one closed so, reopened and closed again...
    site = await build_site(database_url)
    triage = await site.login("triage1")
    union = await site.login("union1")
    refs = []
    for chat in (10, 11, 12):
        _, reference = await _linked_case(site, chat)
        await site.casework.triage(triage, reference, TriageDecision(routing=Routing.UNION))
        await site.casework.change_status(union, reference, Status.IN_PROGRESS, None)
        await site.casework.set_disposition(union, reference, Disposition.CLEARED, None)
        refs.append(reference)
    cleared, rectified, reopened = refs
    await site.casework.close(union, cleared, "经核实，反映不属实，已澄清正名")
    await _rectified_and_closed(site, union, rectified)
    await site.casework.close(union, reopened, "经核实，反映不属实")
    await site.casework.reopen(union, reopened, "职工提供了新的线索")
    await site.casework.close(union, reopened, "再次核实")

    # ...then only the first goes after 60 days; the others stay for the long period.
    purged = await _days_on(site, 61).run(dry_run=False)
    assert [(p.reference, p.rule) for p in purged.cases] == [(cleared, "short")]
    late = await _days_on(site, 3 * 365 + 1).run(dry_run=True)
    assert {(p.reference, p.rule) for p in late.cases} == {
        (rectified, "long"),
        (reopened, "long"),
    }
    await site.engine.dispose()


async def test_settled_officer_alerts_go_after_their_period(database_url: str) -> None:
    from storage.models_notify import AlertRow

    site = await build_site(database_url)
    officer = (await site.login("union1")).officer_id
    now = utcnow()
    ages = {"old-sent": (40, "sent"), "old-pending": (40, None), "new-sent": (5, "sent")}
    async with site.engine.begin() as conn:
        for key, (days, outcome) in ages.items():
            at = now - dt.timedelta(days=days)
            await conn.execute(
                insert(AlertRow).values(
                    id=key,
                    officer_id=officer,
                    kind="urgent",
                    dedup_key=key,
                    payload="{}",
                    created_at=at,
                    next_attempt_at=at,
                    attempts=0,
                    outcome=outcome,
                )  # fmt: skip
            )
    service = RetentionService(site.uow, RetentionPolicy(alerts=dt.timedelta(days=30)))  # type: ignore[arg-type]
    await service.run(dry_run=True)
    async with site.engine.connect() as conn:
        assert len(list(await conn.scalars(select(AlertRow.id)))) == 3
    await service.run(dry_run=False)
    async with site.engine.connect() as conn:
        left = set(await conn.scalars(select(AlertRow.id)))
    assert left == {"old-pending", "new-sent"}
    await site.engine.dispose()
