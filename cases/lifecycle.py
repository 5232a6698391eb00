"""The case state machine of DESIGN §4, and what the reporter is shown of it.

received          ─triage→         accepted | not_accepted
accepted          ─status→         in_progress
in_progress       ─status→         waiting_reporter       (and back, ─status→)
in_progress       ─rectification→  rectification          (owner unit, due date)
in_progress       ─close→          closed                 (outcome text)
rectification     ─status→         look_back
look_back         ─look-back→      closed (passed) | rectification (failed, counted)
not_accepted      ─close→          closed                 (outcome; closed as of the decision)
closed            ─reopen→         in_progress            (reason)

Each move names the request (`Step`) that makes it; any other request refuses it with 409
and says which one would.
"""

from __future__ import annotations

from enum import StrEnum

from cases.errors import InvalidTransition


class Status(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"
    IN_PROGRESS = "in_progress"
    WAITING_REPORTER = "waiting_reporter"
    RECTIFICATION = "rectification"
    LOOK_BACK = "look_back"
    CLOSED = "closed"


class ReporterStatus(StrEnum):
    """The coarser statuses a reporter sees.

    已接收 · 已受理 · 办理中 · 整改中 · 已办结 · 不予受理 · 待您补充
    """

    RECEIVED = "received"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RECTIFYING = "rectifying"
    CLOSED = "closed"
    NOT_ACCEPTED = "not_accepted"
    WAITING_REPORTER = "waiting_reporter"


class Step(StrEnum):
    """The request that makes a transition: its path under `/cases/{reference}/`.

    Only `status` is a bare move; every other step carries what DESIGN §4 requires of it, so
    it has an endpoint (and a service method) of its own that insists on it.
    """

    TRIAGE = "triage"  # routing, or a not-accepted reason
    STATUS = "status"  # nothing more is needed
    RECTIFICATION = "rectification"  # owner unit and due date
    LOOK_BACK = "look-back"  # passed (outcome) or failed (counted)
    CLOSE = "close"  # an outcome text for the reporter
    REOPEN = "reopen"  # a reason for the reporter


STEPS: dict[Status, dict[Status, Step]] = {
    Status.RECEIVED: {Status.ACCEPTED: Step.TRIAGE, Status.NOT_ACCEPTED: Step.TRIAGE},
    Status.ACCEPTED: {Status.IN_PROGRESS: Step.STATUS},
    Status.IN_PROGRESS: {
        Status.WAITING_REPORTER: Step.STATUS,
        Status.RECTIFICATION: Step.RECTIFICATION,
        Status.CLOSED: Step.CLOSE,
    },
    Status.WAITING_REPORTER: {Status.IN_PROGRESS: Step.STATUS},
    # Starting the look-back needs nothing: its due date follows from the rectification's.
    Status.RECTIFICATION: {Status.LOOK_BACK: Step.STATUS},
    # Look-back passed → closed; failed → back to rectification, counted.
    Status.LOOK_BACK: {Status.CLOSED: Step.LOOK_BACK, Status.RECTIFICATION: Step.LOOK_BACK},
    # A not-accepted case is closed as of the decision (retention counts from it); closing it
    # explicitly only adds an outcome text and keeps that date.
    Status.NOT_ACCEPTED: {Status.CLOSED: Step.CLOSE},
    Status.CLOSED: {Status.IN_PROGRESS: Step.REOPEN},
}

TRANSITIONS: dict[Status, frozenset[Status]] = {
    current: frozenset(targets) for current, targets in STEPS.items()
}
TRIAGE_DECISIONS = TRANSITIONS[Status.RECEIVED]

REPORTER_VIEW: dict[Status, ReporterStatus] = {
    Status.RECEIVED: ReporterStatus.RECEIVED,
    Status.ACCEPTED: ReporterStatus.ACCEPTED,
    Status.NOT_ACCEPTED: ReporterStatus.NOT_ACCEPTED,
    Status.IN_PROGRESS: ReporterStatus.IN_PROGRESS,
    Status.WAITING_REPORTER: ReporterStatus.WAITING_REPORTER,
    Status.RECTIFICATION: ReporterStatus.RECTIFYING,
    # Look-back checks the rectification held; to the reporter it is still being rectified.
    Status.LOOK_BACK: ReporterStatus.RECTIFYING,
    Status.CLOSED: ReporterStatus.CLOSED,
}


def allowed_from(current: Status) -> list[str]:
    """The statuses reachable from `current`, whichever request makes the move."""
    return sorted(TRANSITIONS[current])


def via(current: Status) -> dict[str, str]:
    """For each status reachable from `current`, the request (Step) that makes the move."""
    return {str(target): str(step) for target, step in sorted(STEPS[current].items())}


def refused(current: Status, requested: str, message: str) -> InvalidTransition:
    """The 409 for a request that does not fit `current`, naming what would."""
    return InvalidTransition(current, requested, allowed_from(current), via(current), message)


def check_step(current: Status, requested: Status, step: Step) -> None:
    """Raise InvalidTransition (naming the allowed moves and their requests) unless
    current → requested is legal *and* is made by `step`."""
    expected = STEPS[current].get(requested)
    if expected is None:
        raise refused(current, requested, f"cannot go from {current} to {requested}")
    if expected is not step:
        raise refused(
            current,
            requested,
            f"{current} → {requested} is made by POST /cases/{{reference}}/{expected}",
        )


def reporter_status(status: Status) -> ReporterStatus:
    """What the reporter is shown for an internal status."""
    return REPORTER_VIEW[status]
