"""Officer roles and what each may do (DESIGN §1). Keys enforce the rest (P3)."""

from __future__ import annotations

from enum import StrEnum

from cases.categories import Queue
from cases.errors import Forbidden


class Role(StrEnum):
    TRIAGE = "triage"
    UNION = "union"
    DISCIPLINE = "discipline"
    OVERSEER = "overseer"
    ADMINISTRATOR = "administrator"


CASEWORK_ROLES = frozenset({Role.TRIAGE, Role.UNION, Role.DISCIPLINE})

# The queue an officer of each role normally joins; administrators and overseers join none.
HOME_QUEUE: dict[Role, Queue] = {
    Role.TRIAGE: Queue.TRIAGE,
    Role.UNION: Queue.UNION,
    Role.DISCIPLINE: Queue.DISCIPLINE,
}


def require(role: str, allowed: frozenset[Role]) -> None:
    """Forbidden unless `role` is one of `allowed`."""
    if role not in allowed:
        raise Forbidden("your role may not do this")
