"""Deadlines on China's working-day calendar (DESIGN §4), and which of them a case has missed.

A case carries one due date (`due_on`), the earliest deadline still ahead of it in its status:

- received: the triage decision, 5 working days. The decision is also the acceptance notice
  the reporter must get within 15 working days (检举控告规则), so the triage deadline may not be
  later than that one (`DeadlinePolicy` refuses such settings); once the 15 days have passed
  too, the case has missed both.
- accepted, in progress, waiting for the reporter: handling, 60 days (90 once extended) — or,
  while the reporter has had no substantive feedback, the 3-month feedback deadline (EU
  2019/1937 Art. 9) if that comes first. Feedback is anything the reporter reads after the
  acceptance notice: an officer's words (a status note, a message, a reopening reason) or the
  case going into rectification or closing.
- rectification: the rectification due date the officers set (at most two years ahead).
- look-back: 30 days after the rectification due date.

`missed` names every deadline a case has let pass; list rows and the officers' digest show it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from cases.lifecycle import Status
from cases.ports import CaseRecord, EventRecord
from cases.working_days import HolidayOverrides, WorkingCalendar

__all__ = [
    "FEEDBACK_STATUSES",
    "HANDLING_STATUSES",
    "Deadline",
    "DeadlinePolicy",
    "Deadlines",
    "WorkingCalendar",
    "add_months",
    "due_fields",
    "feedback_given",
]

# The statuses in which the handling (and the feedback) deadline runs.
HANDLING_STATUSES = frozenset({Status.ACCEPTED, Status.IN_PROGRESS, Status.WAITING_REPORTER})
# Reporter-visible events that count as substantive feedback even without an officer's note.
FEEDBACK_STATUSES = frozenset({Status.RECTIFICATION, Status.LOOK_BACK, Status.CLOSED})


class Deadline(StrEnum):
    """Which deadline a due date is (or which one was missed)."""

    TRIAGE = "triage"
    ACCEPTANCE_NOTICE = "acceptance_notice"
    FEEDBACK = "feedback"
    HANDLING = "handling"
    RECTIFICATION = "rectification"
    LOOK_BACK = "look_back"


@dataclass(frozen=True)
class DeadlinePolicy:
    """Every duration of DESIGN §4, as settings pass them in, and the holiday overrides."""

    triage_working_days: int = 5
    acceptance_notice_working_days: int = 15
    feedback_months: int = 3
    handling_days: int = 60
    extension_days: int = 30
    look_back_days: int = 30
    transfer_working_days: int = 5
    # How far ahead an officer may set a rectification due date.
    max_due_days: int = 2 * 365
    holidays: HolidayOverrides | None = None

    def __post_init__(self) -> None:
        if self.triage_working_days > self.acceptance_notice_working_days:
            # The triage decision is what tells the reporter the case was (not) accepted.
            raise ValueError(
                "the triage deadline may not be later than the acceptance-notice deadline"
            )


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


def _plus(day: dt.date, days: int) -> dt.date:
    """`day + days`, held at the calendar's end rather than overflowing (stored odd dates)."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max


class Deadlines:
    """The due dates a case carries, computed from the policy and the calendar."""

    def __init__(self, policy: DeadlinePolicy, calendar: WorkingCalendar | None = None) -> None:
        self.policy = policy
        self.calendar = calendar or WorkingCalendar(policy.holidays)

    def triage_due(self, received: dt.date) -> dt.date:
        return self.calendar.add_working_days(received, self.policy.triage_working_days)

    def acceptance_notice_due(self, received: dt.date) -> dt.date:
        return self.calendar.add_working_days(received, self.policy.acceptance_notice_working_days)

    def feedback_due(self, received: dt.date) -> dt.date:
        return add_months(received, self.policy.feedback_months)

    def handling_due(self, received: dt.date, *, extended: bool) -> dt.date:
        days = self.policy.handling_days + (self.policy.extension_days if extended else 0)
        return _plus(received, days)

    def working_due(self, received: dt.date, handling: dt.date, *, feedback_given: bool) -> dt.date:
        """A handled case's due date: handling, or the feedback deadline while it is still owed."""
        if feedback_given:
            return handling
        return min(handling, self.feedback_due(received))

    def look_back_due(self, rectification_due: dt.date) -> dt.date:
        return _plus(rectification_due, self.policy.look_back_days)

    def latest_due(self, today: dt.date) -> dt.date:
        """The furthest due date an officer may set (rectification)."""
        return today + dt.timedelta(days=self.policy.max_due_days)

    def transfer_respond_by(self, requested: dt.date) -> dt.date:
        return self.calendar.add_working_days(requested, self.policy.transfer_working_days)

    def kind_of(
        self,
        status: str,
        received: dt.date,
        due_on: dt.date | None,
        handling_due_on: dt.date | None = None,
    ) -> Deadline | None:
        """Which deadline `due_on` is for a case in `status` (None: no due date)."""
        if due_on is None:
            return None
        if status == Status.RECEIVED:
            return Deadline.TRIAGE
        if status == Status.RECTIFICATION:
            return Deadline.RECTIFICATION
        if status == Status.LOOK_BACK:
            return Deadline.LOOK_BACK
        if status not in HANDLING_STATUSES:
            return None
        handling = (
            {handling_due_on}
            if handling_due_on is not None
            else {self.handling_due(received, extended=e) for e in (False, True)}
        )
        if due_on not in handling and due_on == self.feedback_due(received):
            return Deadline.FEEDBACK
        return Deadline.HANDLING

    def missed(
        self,
        status: str,
        received: dt.date,
        due_on: dt.date | None,
        today: dt.date,
        handling_due_on: dt.date | None = None,
    ) -> tuple[Deadline, ...]:
        """The deadlines a case in `status` has let pass by `today`, the most serious first."""
        out: list[Deadline] = []
        if status == Status.RECEIVED and self.acceptance_notice_due(received) < today:
            out.append(Deadline.ACCEPTANCE_NOTICE)
        kind = self.kind_of(status, received, due_on, handling_due_on)
        if kind is not None and due_on is not None and due_on < today:
            out.append(kind)
        if kind is Deadline.FEEDBACK and handling_due_on is not None and handling_due_on < today:
            out.append(Deadline.HANDLING)
        return tuple(out)


def feedback_given(events: Sequence[EventRecord]) -> bool:
    """Has the reporter had substantive feedback: after the triage decision (the acceptance
    notice), an officer's words or the case going into rectification or closing?"""
    decided = False
    for event in events:
        if not decided:
            decided = event.status != Status.RECEIVED
            continue
        if event.note_item_id is not None or event.status in FEEDBACK_STATUSES:
            return True
    return False


def due_fields(
    case: CaseRecord,
    status: Status,
    deadlines: Deadlines,
    today: dt.date,
    feedback_given: bool,
) -> dict[str, object]:
    """The deadline fields (`due_on`, `handling_due_on`, `closed_on`) a case carries once it is
    in `status`; `case` already holds the step's other changes."""
    if status is Status.RECEIVED:
        return {}  # intake set the triage deadline; only triage moves a case on
    if status in (Status.CLOSED, Status.NOT_ACCEPTED):
        # A not-accepted case closed later keeps its decision's date: retention counts from it.
        return {"due_on": None, "closed_on": case.closed_on or today}
    handling = case.handling_due_on or deadlines.handling_due(
        case.received_on, extended=case.extended
    )
    if status is Status.RECTIFICATION:
        return {"due_on": case.rectification_due_on, "handling_due_on": handling}
    if status is Status.LOOK_BACK and case.rectification_due_on is not None:
        due = deadlines.look_back_due(case.rectification_due_on)
        return {"due_on": due, "handling_due_on": handling}
    due = deadlines.working_due(case.received_on, handling, feedback_given=feedback_given)
    return {"due_on": due, "handling_due_on": handling, "closed_on": None}
