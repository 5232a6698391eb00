"""The report taxonomy. Codes are stable (stored in cases); labels live in the catalogs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Queue(StrEnum):
    TRIAGE = "triage"
    UNION = "union"
    DISCIPLINE = "discipline"


class Routing(StrEnum):
    """Where triage sends a case: one queue, or both for joint handling (联合研判)."""

    UNION = "union"
    DISCIPLINE = "discipline"
    JOINT = "joint"

    def queues(self) -> tuple[Queue, ...]:
        if self is Routing.JOINT:
            return (Queue.UNION, Queue.DISCIPLINE)
        return (Queue(self.value),)


@dataclass(frozen=True)
class Group:
    code: str
    queue: Queue | None
    categories: tuple[str, ...]


GROUPS: tuple[Group, ...] = (
    Group(
        "rights",
        Queue.UNION,
        (
            "wages",
            "overtime_leave",
            "safety",
            "social_insurance",
            "contract_dismissal",
            "bullying",
            "women_workers",
            "democratic_management",
        ),
    ),
    Group(
        "integrity",
        Queue.DISCIPLINE,
        (
            "bribery",
            "abuse_of_power",
            "misappropriation",
            "procurement",
            "work_style",
            "nepotism",
            "false_accounting",
            "retaliation",
        ),
    ),
)

OTHER = "other"
CATEGORIES: frozenset[str] = frozenset(
    {OTHER, *(code for group in GROUPS for code in group.categories)}
)


def group_of(code: str) -> Group | None:
    """The group a category belongs to, None for `other`."""
    return next((g for g in GROUPS if code in g.categories), None)


def group_by_code(code: str) -> Group | None:
    """A group by its code."""
    return next((g for g in GROUPS if g.code == code), None)


class Severity(StrEnum):
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class NotAcceptedReason(StrEnum):
    """The fixed reasons triage may give for not accepting a report."""

    NOT_ACTIONABLE = "not_actionable"
    OUT_OF_SCOPE = "out_of_scope"
    INSUFFICIENT_DETAIL = "insufficient_detail"
    DUPLICATE = "duplicate"
    REFERRED_ELSEWHERE = "referred_elsewhere"
