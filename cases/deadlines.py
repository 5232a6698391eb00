"""Deadlines on China's working-day calendar (DESIGN §4).

Working days come from the maintained `chinese_calendar` package, which knows the State
Council's public holidays and the make-up working days (调休) on weekends. For a year the package
does not cover yet, the calendar falls back to Monday–Friday and says so through
`WorkingCalendar.covers`, so a deadline is never silently wrong by more than the holidays.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import chinese_calendar


@dataclass(frozen=True)
class DeadlinePolicy:
    """Every duration of DESIGN §4, as settings pass them in."""

    triage_working_days: int = 5
    acceptance_notice_working_days: int = 15
    feedback_months: int = 3
    handling_days: int = 60
    extension_days: int = 30
    look_back_days: int = 30
    transfer_working_days: int = 5


class WorkingCalendar:
    """Is a date a working day in mainland China, and adding working days."""

    def covers(self, day: dt.date) -> bool:
        """True when the holiday data includes `day`'s year (else weekdays are assumed)."""
        try:
            chinese_calendar.is_workday(day)
        except NotImplementedError:
            return False
        return True

    def is_working_day(self, day: dt.date) -> bool:
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return day.weekday() < 5

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The date `days` working days after `start` (start itself does not count)."""
        day = start
        remaining = days
        while remaining > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day-of-month `months` later, clamped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError("unreachable")  # pragma: no cover


class Deadlines:
    """The due dates a case carries, computed from the policy and the calendar."""

    def __init__(self, policy: DeadlinePolicy, calendar: WorkingCalendar | None = None) -> None:
        self.policy = policy
        self.calendar = calendar or WorkingCalendar()

    def triage_due(self, received: dt.date) -> dt.date:
        return self.calendar.add_working_days(received, self.policy.triage_working_days)

    def acceptance_notice_due(self, received: dt.date) -> dt.date:
        return self.calendar.add_working_days(received, self.policy.acceptance_notice_working_days)

    def feedback_due(self, received: dt.date) -> dt.date:
        return add_months(received, self.policy.feedback_months)

    def handling_due(self, received: dt.date, *, extended: bool) -> dt.date:
        days = self.policy.handling_days + (self.policy.extension_days if extended else 0)
        return received + dt.timedelta(days=days)

    def look_back_due(self, rectification_due: dt.date) -> dt.date:
        return rectification_due + dt.timedelta(days=self.policy.look_back_days)

    def transfer_respond_by(self, requested: dt.date) -> dt.date:
        return self.calendar.add_working_days(requested, self.policy.transfer_working_days)
