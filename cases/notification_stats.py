"""Delivery figures for administrators: how many notifications went out, wait, or died.

Counts only. A dead-lettered row is never shown — not its text, case or recipient — because
administrators hold no case access (separation of duties, DESIGN §1).
"""

from __future__ import annotations

from dataclasses import dataclass

from cases.officers import OfficerSession
from cases.ports_notify import NotifyUnitOfWorkFactory
from cases.roles import Role, require


@dataclass(frozen=True)
class DeliveryStats:
    """Outcome counts ("pending", "sent", "dead", "unreachable", "no_link") per kind."""

    reporter: dict[str, int]
    officer_alerts: dict[str, int]

    @property
    def dead_letters(self) -> int:
        return self.reporter.get("dead", 0) + self.officer_alerts.get("dead", 0)


class DeliveryStatsService:
    """Read-only delivery counts for administrators."""

    def __init__(self, uow: NotifyUnitOfWorkFactory) -> None:
        self._uow = uow

    async def stats(self, session: OfficerSession) -> DeliveryStats:
        require(session.role, frozenset({Role.ADMINISTRATOR}))
        async with self._uow() as uow:
            return DeliveryStats(await uow.delivery.counts(), await uow.alerts.counts())
