"""SQLAlchemy implementations of `cases.ports_notify`, and the unit of work that carries them.

Claims use `FOR UPDATE SKIP LOCKED` on PostgreSQL so several notifier workers take disjoint
rows; the claim then moves `next_attempt_at` forward by the lease, so once the claiming
transaction commits no other worker sees the row until the lease runs out.
"""

from __future__ import annotations

import datetime as dt
from typing import Self

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cases.ports_notify import (
    AlertRepository,
    DeliveryRepository,
    DeliveryRow,
    RetentionCase,
    RetentionRepository,
)
from storage.models import (
    Case,
    CaseEvent,
    CaseItem,
    CaseKey,
    NotifyLink,
    OutboxRow,
    Transfer,
)
from storage.repos_alerts import SqlAlertRepository
from storage.repos_locking import lock_skipping
from storage.repositories import SqlUnitOfWork


class SqlDeliveryRepository:
    """Reporter outbox rows as the notifier worker handles them."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def claim(self, now: dt.datetime, limit: int, lease: dt.timedelta) -> list[DeliveryRow]:
        stmt = (
            select(OutboxRow)
            .where(OutboxRow.outcome.is_(None), OutboxRow.next_attempt_at <= now)
            .order_by(OutboxRow.next_attempt_at, OutboxRow.created_at, OutboxRow.id)
            .limit(limit)
        )
        rows = list(await self._s.scalars(lock_skipping(self._s, stmt)))
        if rows:
            # One statement: on SQLite the write lock is held from here to the commit.
            await self._s.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_([r.id for r in rows]))
                .values(next_attempt_at=now + lease)
                .execution_options(synchronize_session=False)
            )
        return [DeliveryRow(r.id, r.case_id, r.event_id, r.attempts, r.parts_sent) for r in rows]

    async def part_sent(self, row_id: str, parts: int) -> None:
        await self._s.execute(
            update(OutboxRow).where(OutboxRow.id == row_id).values(parts_sent=parts)
        )

    async def fail(self, row_id: str, error: str) -> int:
        await self._s.execute(
            update(OutboxRow)
            .where(OutboxRow.id == row_id)
            .values(attempts=OutboxRow.attempts + 1, last_error=error[:64])
        )
        attempts = await self._s.scalar(select(OutboxRow.attempts).where(OutboxRow.id == row_id))
        return int(attempts or 0)

    async def release(self, row_ids: list[str], at: dt.datetime) -> None:
        if row_ids:
            await self._s.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(row_ids), OutboxRow.outcome.is_(None))
                .values(next_attempt_at=at)
            )

    async def counts(self) -> dict[str, int]:
        rows = await self._s.execute(
            select(OutboxRow.outcome, func.count()).group_by(OutboxRow.outcome)
        )
        return {(outcome or "pending"): int(n) for outcome, n in rows}


class SqlRetentionRepository:
    """Finding and deleting closed cases past their retention."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def closed_before(self, day: dt.date) -> list[RetentionCase]:
        """Cases closed on or before `day`: closed ones, and not-accepted ones, which are
        closed as of the decision (`closed_on` is the decision's day); each with the statuses
        of its events, oldest first."""
        linked = select(NotifyLink.case_id)
        closed = (
            Case.status.in_(("closed", "not_accepted")),
            Case.closed_on.is_not(None),
            Case.closed_on <= day,
        )
        rows = await self._s.execute(
            select(
                Case.id,
                Case.reference,
                Case.closed_on,
                Case.not_accepted_reason,
                Case.id.in_(linked),
                Case.disposition,
            )
            .where(*closed)
            .order_by(Case.closed_on, Case.reference)
        )
        events = await self._s.execute(
            select(CaseEvent.case_id, CaseEvent.status)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(*closed)
            .order_by(CaseEvent.case_id, CaseEvent.position)
        )
        history: dict[str, list[str]] = {}
        for case_id, status in events:
            history.setdefault(case_id, []).append(status)
        return [
            RetentionCase(
                case_id,
                reference,
                closed_on,
                reason,
                bool(has_link),
                disposition,
                tuple(history.get(case_id, ())),
            )
            for case_id, reference, closed_on, reason, has_link, disposition in rows
            if closed_on is not None
        ]

    async def purge_case(self, case_id: str) -> None:
        # Items, events, keys, outbox rows and the notify link go with the case (ON DELETE
        # CASCADE); deleting them explicitly as well does not depend on the backend's FKs.
        await self._s.execute(delete(OutboxRow).where(OutboxRow.case_id == case_id))
        await self._s.execute(delete(NotifyLink).where(NotifyLink.case_id == case_id))
        await self._s.execute(
            update(CaseEvent).where(CaseEvent.case_id == case_id).values(note_item_id=None)
        )
        await self._s.execute(delete(CaseEvent).where(CaseEvent.case_id == case_id))
        # Transfers point at the case's items (feedback, decline reason): they go first.
        await self._s.execute(delete(Transfer).where(Transfer.case_id == case_id))
        await self._s.execute(delete(CaseItem).where(CaseItem.case_id == case_id))
        await self._s.execute(delete(CaseKey).where(CaseKey.case_id == case_id))
        await self._s.execute(delete(Case).where(Case.id == case_id))


class SqlNotifyUnitOfWork(SqlUnitOfWork):
    """`SqlUnitOfWork` plus the notifier's repositories."""

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.delivery: DeliveryRepository = SqlDeliveryRepository(self._session)
        self.alerts: AlertRepository = SqlAlertRepository(self._session)
        self.retention: RetentionRepository = SqlRetentionRepository(self._session)
        return self
