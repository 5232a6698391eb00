"""Working-day arithmetic across China's National Day holiday and a make-up working day; the
holiday file for years the package does not cover and the start-up warning; the
acceptance-notice and feedback deadlines in list rows and the officers' digest."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.alert_channel import render_alert
from bot.runner import running
from bot.settings import Settings
from cases.alert_delivery import OfficerAlert
from cases.alert_links import AlertLinkService, LinkResult
from cases.alerts import AlertService
from cases.casework import TriageDecision
from cases.categories import Routing
from cases.deadlines import DeadlinePolicy, Deadlines, WorkingCalendar, add_months
from cases.lifecycle import Status
from cases.workflow import WorkflowService
from cases.working_days import HolidayOverrides, warn_if_uncovered
from handlers.i18n import CatalogI18n
from storage.models_notify import AlertRow
from tests.factories import build_site, initialise_site


def test_five_working_days_skip_national_day_and_count_the_makeup_saturday() -> None:
    calendar = WorkingCalendar()
    # 2024: 1–7 October off; Sunday 29 September and Saturday 12 October are working days.
    assert calendar.is_working_day(dt.date(2024, 9, 29))
    assert not calendar.is_working_day(dt.date(2024, 10, 3))
    assert calendar.is_working_day(dt.date(2024, 10, 12))
    # Received Friday 27 Sep: 29 Sep (make-up), 30 Sep, 8, 9, 10 Oct.
    assert calendar.add_working_days(dt.date(2024, 9, 27), 5) == dt.date(2024, 10, 10)
    # Received Thursday 10 Oct: 11, 12 (make-up Saturday), 14, 15, 16.
    assert calendar.add_working_days(dt.date(2024, 10, 10), 5) == dt.date(2024, 10, 16)


def test_uncovered_year_falls_back_to_weekdays() -> None:
    calendar = WorkingCalendar()
    assert not calendar.covers(dt.date(2099, 1, 1))
    assert calendar.add_working_days(dt.date(2099, 1, 2), 1) == dt.date(2099, 1, 5)


def test_policy_durations() -> None:
    deadlines = Deadlines(DeadlinePolicy())
    received = dt.date(2024, 9, 27)
    assert deadlines.handling_due(received, extended=False) == dt.date(2024, 11, 26)
    assert deadlines.handling_due(received, extended=True) == dt.date(2024, 12, 26)
    assert deadlines.look_back_due(dt.date(2024, 12, 1)) == dt.date(2024, 12, 31)
    assert deadlines.feedback_due(dt.date(2024, 11, 30)) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert deadlines.transfer_respond_by(received) == dt.date(2024, 10, 10)


# ---------------------------------------------------------------- holiday data beyond the package
# 2099 is a year no chinesecalendar release will cover for a long time; its dates below are test
# data only, not a schedule (1 January is New Year's Day every year).
FAR_YEAR = """
[2099]
holidays = [2099-01-01, "2099-01-02"]
workdays = [2099-01-03]  # a Saturday worked instead
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "holidays.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_holiday_file_adds_a_year_the_package_does_not_cover(tmp_path: Path) -> None:
    overrides = HolidayOverrides.load(_write(tmp_path, FAR_YEAR))
    calendar = WorkingCalendar(overrides)
    assert not WorkingCalendar().covers(dt.date(2099, 6, 1))
    assert calendar.covers(dt.date(2099, 6, 1))
    assert not calendar.is_working_day(dt.date(2099, 1, 1))
    assert not calendar.is_working_day(dt.date(2099, 1, 2))  # a Friday off
    assert calendar.is_working_day(dt.date(2099, 1, 3))  # a Saturday worked
    assert calendar.is_working_day(dt.date(2099, 1, 5))  # an ordinary Monday
    # Wednesday 31 Dec 2098 + 1 working day: not the holidays, the make-up Saturday.
    assert calendar.add_working_days(dt.date(2098, 12, 31), 1) == dt.date(2099, 1, 3)
    assert WorkingCalendar().add_working_days(dt.date(2098, 12, 31), 1) == dt.date(2099, 1, 1)


def test_listed_days_win_over_the_package(tmp_path: Path) -> None:
    # Tuesday 8 October 2024 was a working day; a correction in the file makes it a holiday.
    calendar = WorkingCalendar(HolidayOverrides.parse({"2024": {"holidays": ["2024-10-08"]}}))
    assert not calendar.is_working_day(dt.date(2024, 10, 8))
    assert not calendar.is_working_day(dt.date(2024, 10, 3))  # the package's holidays stay
    assert calendar.is_working_day(dt.date(2024, 10, 12))  # and its make-up days


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('[2099]\nholidays = ["2099-01-01"]\nworkdays = ["2099-01-05"]', "weekday"),
        ('[2099]\nholidays = ["2098-12-31"]', "another year"),
        ('[2099]\nholidays = ["2099-01-01"]\nworkdays = ["2099-01-01"]', "both"),
        ("[2099]\nworkdays = [2099-01-03]", "no holidays"),
        ('[twenty99]\nholidays = ["2099-01-01"]', "YYYY"),
        ('[2099]\nholidays = ["1 Jan"]', "not a date"),
        ('[2099]\nholiday = ["2099-01-01"]', "unknown keys"),
        ("[2099\n", "holiday file"),
    ],
)
def test_a_wrong_holiday_file_is_refused_with_the_reason(
    tmp_path: Path, text: str, complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        HolidayOverrides.load(_write(tmp_path, text))


def test_settings_name_the_holiday_file(tmp_path: Path) -> None:
    path = _write(tmp_path, FAR_YEAR)
    settings = Settings(environment="test", holidays_path=str(path))
    assert Deadlines(settings.deadline_policy).calendar.covers(dt.date(2099, 1, 1))
    assert not Deadlines(Settings(environment="test").deadline_policy).calendar.covers(
        dt.date(2099, 1, 1)
    )
    with pytest.raises(ValueError, match="holiday file"):
        _ = Settings(
            environment="test", holidays_path=str(tmp_path / "missing.toml")
        ).deadline_policy


def test_uncovered_years_are_logged_without_anything_else(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="cases.working_days")
    assert warn_if_uncovered(WorkingCalendar(), dt.date(2098, 12, 4)) == [2098, 2099]
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "no holiday data for 2099" in messages[1]
    assert "SPEAKUP_HOLIDAYS_PATH" in messages[1]
    caplog.clear()
    both = "\n".join(f'[{y}]\nholidays = ["{y}-01-01"]' for y in (2098, 2099))
    covered = WorkingCalendar(HolidayOverrides.load(_write(tmp_path, both)))
    assert warn_if_uncovered(covered, dt.date(2098, 12, 4)) == []
    assert caplog.records == []
    # The packaged data covers this year (2026) at least.
    assert 2026 not in WorkingCalendar().uncovered_years(dt.date(2026, 12, 4))


async def test_the_admin_api_warns_at_start_up_when_next_year_is_not_covered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Start-up says which years deadlines count Monday–Friday, and stops once a holiday file
    covers them."""
    caplog.set_level(logging.WARNING, logger="cases.working_days")
    today = dt.datetime.now(dt.UTC).date()
    fields: dict[str, object] = {
        "environment": "test",
        "data_dir": tmp_path,
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'start.db'}",
        "api_port": 0,
    }
    await initialise_site(Settings.model_validate(fields))
    async with running(Settings.model_validate(fields), with_bot=False, with_api=True):
        pass
    warned = [r.getMessage() for r in caplog.records if "no holiday data" in r.getMessage()]
    expected = WorkingCalendar().uncovered_years(today)
    assert [int(m.split("no holiday data for ")[1][:4]) for m in warned] == expected
    caplog.clear()
    years = "\n".join(f'[{y}]\nholidays = ["{y}-01-01"]' for y in (today.year, today.year + 1))
    fields["holidays_path"] = str(_write(tmp_path, years))
    async with running(Settings.model_validate(fields), with_bot=False, with_api=True):
        pass
    assert not [r for r in caplog.records if "no holiday data" in r.getMessage()]


# ---------------------------------------------------------------- acceptance notice and feedback
def test_missed_names_each_deadline() -> None:
    deadlines = Deadlines(DeadlinePolicy())
    received = dt.date(2024, 9, 27)
    triage = deadlines.triage_due(received)  # 10 October
    notice = deadlines.acceptance_notice_due(received)
    assert notice == dt.date(2024, 10, 23)  # 15 working days, two make-up days among them
    assert deadlines.missed("received", received, triage, triage) == ()
    after_triage = triage + dt.timedelta(days=1)
    assert deadlines.missed("received", received, triage, after_triage) == ("triage",)
    after_notice = notice + dt.timedelta(days=1)
    assert deadlines.missed("received", received, triage, after_notice) == (
        "acceptance_notice",
        "triage",
    )
    feedback = deadlines.feedback_due(received)  # 27 December
    late = Deadlines(DeadlinePolicy(handling_days=120))
    handling = late.handling_due(received, extended=False)
    assert late.kind_of("in_progress", received, feedback, handling) == "feedback"
    assert late.kind_of("in_progress", received, handling, handling) == "handling"
    day_after = feedback + dt.timedelta(days=1)
    assert late.missed("in_progress", received, feedback, day_after, handling) == ("feedback",)
    assert late.missed("in_progress", received, handling, day_after, handling) == ()
    # Without the stored handling date (the digest), both candidate handling dates are known.
    assert late.kind_of("in_progress", received, handling) == "handling"
    assert late.kind_of("in_progress", received, feedback) == "feedback"
    with pytest.raises(ValueError, match="acceptance-notice"):
        DeadlinePolicy(triage_working_days=20)


async def test_a_case_nobody_told_anything_is_listed_overdue_with_the_reason(
    database_url: str,
) -> None:
    site = await build_site(database_url)
    # Handling of 120 days, so the 3-month feedback deadline comes first.
    deadlines = Deadlines(DeadlinePolicy(handling_days=120))
    clock = _Clock()
    work = WorkflowService(site.uow, clock=clock, deadlines=deadlines)  # type: ignore[arg-type]
    _, waiting = await site.file_report()
    _, handled = await site.file_report()
    triage, union = await site.login("triage1"), await site.login("union1")
    received = clock().date()

    # Still in triage after the acceptance-notice deadline: both deadlines are missed.
    clock.days = (deadlines.acceptance_notice_due(received) - received).days + 1
    rows = {r.reference: r for r in await work.list_cases(triage)}
    assert rows[waiting.reference].overdue_reasons == ("acceptance_notice", "triage")
    clock.days = 0

    await work.triage(triage, handled.reference, TriageDecision(routing=Routing.UNION))
    moved = await work.change_status(union, handled.reference, Status.IN_PROGRESS, None)
    # Accepted and "in progress" are not feedback on the substance: due by the feedback date.
    assert moved.due_on == deadlines.feedback_due(received)
    assert moved.deadline == "feedback"
    clock.days = (deadlines.feedback_due(received) - received).days + 1
    [row] = await work.list_cases(union, overdue=True)
    assert row.overdue_reasons == ("feedback",)
    # A message is feedback: the due date becomes the handling deadline, and nothing is late.
    told = await work.message(union, handled.reference, "已约谈项目经理，正在核实工资发放记录")
    assert told.due_on == deadlines.handling_due(received, extended=False)
    assert told.deadline == "handling"
    assert not told.overdue
    assert await work.list_cases(union, overdue=True) == []
    await site.engine.dispose()


async def test_the_digest_names_the_missed_feedback_deadline(database_url: str) -> None:
    site = await build_site(database_url)
    deadlines = Deadlines(DeadlinePolicy(handling_days=120))
    work = WorkflowService(site.uow, deadlines=deadlines)  # type: ignore[arg-type]
    _, filed = await site.file_report()
    triage, union = await site.login("triage1"), await site.login("union1")
    await work.triage(triage, filed.reference, TriageDecision(routing=Routing.UNION))
    links = AlertLinkService(site.uow)  # type: ignore[arg-type]
    assert await links.link((await links.new_code(union)).code, 5501, "zh_CN") is LinkResult.LINKED
    received = dt.datetime.now(dt.UTC).date()
    day = deadlines.feedback_due(received) + dt.timedelta(days=1)
    at = dt.datetime.combine(day, dt.time(9), ZoneInfo("Asia/Shanghai")).astimezone(dt.UTC)
    alerts = AlertService(site.uow, deadlines=deadlines, clock=lambda: at)  # type: ignore[arg-type]
    assert await alerts.digest() == 1
    async with site.engine.connect() as conn:
        payload = json.loads(str(await conn.scalar(select(AlertRow.payload))))
    [item] = payload["items"]
    assert item["reference"] == filed.reference
    assert item["overdue"]
    assert item["reasons"] == ["feedback"]
    text = render_alert(OfficerAlert("r", "digest", 5501, "zh_CN", payload), CatalogI18n())
    assert "（已逾期：实质性反馈）" in text
    english = render_alert(OfficerAlert("r", "digest", 5501, "en", payload), CatalogI18n())
    assert "(overdue: substantive feedback)" in english
    await site.engine.dispose()


class _Clock:
    """Real time, moved `days` ahead."""

    def __init__(self) -> None:
        self.days = 0

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(days=self.days)
