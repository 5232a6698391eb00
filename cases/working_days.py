"""China's working-day calendar: public holidays and make-up working days (调休).

The data comes from the `chinese_calendar` package, which gains a year once the State Council
publishes that year's holiday schedule (usually late in the year before). Until a release covers
a year, an operator copies the published schedule into a TOML file named by
`SPEAKUP_HOLIDAYS_PATH`:

    [2027]
    holidays = [2027-01-01, 2027-02-08, ...]   # days off, weekdays and weekends alike
    workdays = [2027-02-20]                    # weekend days worked instead (调休上班)

A year listed in the file counts as covered. Listed days win over the package (so a correction
is possible too); other days follow the package, or Monday–Friday where the package has no data.
A year neither knows is counted Monday–Friday, which can be wrong by the holidays: `covers` and
`uncovered_years` say so, and the bot and the admin API log a warning at start-up when the
current or the next year is not covered. Nobody invents dates here: only the published notice
is a source.
"""

from __future__ import annotations

import datetime as dt
import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import chinese_calendar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HolidayOverrides:
    """Holidays and make-up working days an operator added, and the years they complete."""

    years: frozenset[int] = frozenset()
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    workdays: frozenset[dt.date] = field(default_factory=frozenset)

    @classmethod
    def load(cls, path: str | Path) -> HolidayOverrides:
        """Read and check the TOML file; a mistake is a ValueError naming the file and year."""
        try:
            with Path(path).open("rb") as handle:
                data = tomllib.load(handle)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"holiday file {path}: {exc}") from exc
        return cls.parse(data, str(path))

    @classmethod
    def parse(cls, data: dict[str, object], source: str = "holiday file") -> HolidayOverrides:
        years: set[int] = set()
        holidays: set[dt.date] = set()
        workdays: set[dt.date] = set()
        for key, table in data.items():
            if not (key.isdigit() and len(key) == 4) or not isinstance(table, dict):
                raise ValueError(f"{source}: expected [YYYY] tables, found {key!r}")
            year = int(key)
            unknown = set(table) - {"holidays", "workdays"}
            if unknown:
                raise ValueError(f"{source} [{year}]: unknown keys {sorted(unknown)}")
            off = _dates(table.get("holidays", []), year, source)
            on = _dates(table.get("workdays", []), year, source)
            if not off:
                # Every year has public holidays; an empty table would only silence the warning.
                raise ValueError(f"{source} [{year}]: lists no holidays")
            if off & on:
                raise ValueError(f"{source} [{year}]: {min(off & on)} is both off and worked")
            weekday = sorted(d for d in on if d.weekday() < 5)
            if weekday:
                raise ValueError(
                    f"{source} [{year}]: {weekday[0]} is a weekday; make-up working days "
                    "are Saturdays or Sundays"
                )
            years.add(year)
            holidays |= off
            workdays |= on
        return cls(frozenset(years), frozenset(holidays), frozenset(workdays))


def _dates(values: object, year: int, source: str) -> set[dt.date]:
    if not isinstance(values, list):
        raise ValueError(f"{source} [{year}]: expected a list of dates")
    days: set[dt.date] = set()
    for value in values:
        try:
            day = value if type(value) is dt.date else dt.date.fromisoformat(str(value))
        except ValueError as exc:
            raise ValueError(f"{source} [{year}]: {value!r} is not a date") from exc
        if day.year != year:
            raise ValueError(f"{source} [{year}]: {day} belongs to another year")
        days.add(day)
    return days


class WorkingCalendar:
    """Is a date a working day in mainland China, and adding working days."""

    def __init__(self, overrides: HolidayOverrides | None = None) -> None:
        self.overrides = overrides or HolidayOverrides()

    def covers(self, day: dt.date) -> bool:
        """True when holiday data includes `day`'s year (else weekdays are assumed)."""
        if day.year in self.overrides.years:
            return True
        try:
            chinese_calendar.is_workday(day)
        except NotImplementedError:
            return False
        return True

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.overrides.holidays:
            return False
        if day in self.overrides.workdays:
            return True
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

    def uncovered_years(self, today: dt.date) -> list[int]:
        """This year and next, where not covered: deadlines then run into them Monday–Friday."""
        return [
            year for year in (today.year, today.year + 1) if not self.covers(dt.date(year, 7, 1))
        ]


def warn_if_uncovered(calendar: WorkingCalendar, today: dt.date) -> list[int]:
    """Log a warning (no user data: years only) for each year the calendar cannot count."""
    uncovered = calendar.uncovered_years(today)
    for year in uncovered:
        log.warning(
            "working-day calendar: no holiday data for %d; deadlines in %d count Monday-Friday "
            "only. Add the State Council's %d holiday schedule to the file named by "
            "SPEAKUP_HOLIDAYS_PATH (or update the chinesecalendar package).",
            year,
            year,
            year,
        )
    return uncovered
