"""The case state machine of DESIGN §4, and what the reporter is shown of it.

received ──triage──▶ accepted ──▶ in_progress ⇄ waiting_reporter
   └──▶ not_accepted ──▶ closed        │
                                       ├──▶ rectification ──▶ look_back ──▶ closed
                                       │          ▲──── failed ────┘
                                       └──▶ closed ──reopen──▶ in_progress
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


TRANSITIONS: dict[Status, frozenset[Status]] = {
    # Leaving `received` is triage's decision and goes through the triage service only.
    Status.RECEIVED: frozenset({Status.ACCEPTED, Status.NOT_ACCEPTED}),
    Status.ACCEPTED: frozenset({Status.IN_PROGRESS}),
    Status.IN_PROGRESS: frozenset({Status.WAITING_REPORTER, Status.RECTIFICATION, Status.CLOSED}),
    Status.WAITING_REPORTER: frozenset({Status.IN_PROGRESS}),
    Status.RECTIFICATION: frozenset({Status.LOOK_BACK}),
    # Look-back passed → closed; failed → back to rectification.
    Status.LOOK_BACK: frozenset({Status.CLOSED, Status.RECTIFICATION}),
    Status.NOT_ACCEPTED: frozenset({Status.CLOSED}),
    # Reopening a closed case needs a reason (the note).
    Status.CLOSED: frozenset({Status.IN_PROGRESS}),
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


def allowed_from(current: Status, *, via_triage: bool) -> list[str]:
    """The statuses reachable from `current` through the status service or through triage."""
    if (current is Status.RECEIVED) != via_triage:
        return []
    return sorted(TRANSITIONS[current])


def check_transition(current: Status, requested: Status, *, via_triage: bool = False) -> None:
    """Raise InvalidTransition (with the allowed targets) unless current → requested is legal."""
    allowed = allowed_from(current, via_triage=via_triage)
    if requested not in allowed:
        raise InvalidTransition(current, requested, allowed)


def reporter_status(status: Status) -> ReporterStatus:
    """What the reporter is shown for an internal status."""
    return REPORTER_VIEW[status]
