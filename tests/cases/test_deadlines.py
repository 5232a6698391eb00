"""Working-day arithmetic across China's National Day holiday and a make-up working day."""

from __future__ import annotations

import datetime as dt

from cases.deadlines import DeadlinePolicy, Deadlines, WorkingCalendar, add_months


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
