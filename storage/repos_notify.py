"""SQLAlchemy implementations of `cases.ports_notify`, and the unit of work that carries them.

Claims use `FOR UPDATE SKIP LOCKED` on PostgreSQL so several notifier workers take disjoint
rows; the claim then moves `next_attempt_at` forward by the lease, so once the claiming
transaction commits no other worker sees the row until the lease runs out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Self

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cases.ports_notify import (
    AlertCase,
    AlertRecord,
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
    Officer,
    OutboxRow,
    QueueGrant,
)
from storage.models_notify import AlertLinkCode, AlertRow, DigestDay, OfficerChat
from storage.repositories import SqlUnitOfWork

OPEN_STATUSES = ("received", "accepted", "in_progress", "waiting_reporter", "rectification",
                 "look_back")  # fmt: skip


def _lock_skipping(session: AsyncSession, stmt: Select[Any]) -> Select[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True)
    return stmt


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
        rows = list(await self._s.scalars(_lock_skipping(self._s, stmt)))
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


class SqlAlertRepository:
    """Officer alert chats, one-time link codes and the alert queue."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def put_code(self, code_hash: bytes, officer_id: str, expires_at: dt.datetime) -> None:
        # One live code per officer: asking again replaces the previous one.
        await self._s.execute(delete(AlertLinkCode).where(AlertLinkCode.officer_id == officer_id))
        self._s.add(
            AlertLinkCode(code_hash=code_hash, officer_id=officer_id, expires_at=expires_at)
        )
        await self._s.flush()

    async def take_code(self, code_hash: bytes, now: dt.datetime) -> str | None:
        row = await self._s.get(AlertLinkCode, code_hash)
        if row is None:
            return None
        officer_id, expires_at = row.officer_id, row.expires_at
        await self._s.delete(row)
        await self._s.flush()
        return officer_id if expires_at > now else None

    async def link_chat(
        self, officer_id: str, chat_id: int, language: str, now: dt.datetime
    ) -> None:
        await self._s.execute(delete(OfficerChat).where(OfficerChat.officer_id == officer_id))
        self._s.add(
            OfficerChat(officer_id=officer_id, chat_id=chat_id, language=language, linked_at=now)
        )
        await self._s.flush()

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        await self._s.execute(
            update(OfficerChat)
            .where(OfficerChat.chat_id == old_chat_id)
            .values(chat_id=new_chat_id)
        )

    async def members(self, queue: str, now: dt.datetime) -> list[str]:
        rows = await self._s.scalars(
            select(QueueGrant.officer_id)
            .where(
                QueueGrant.queue == queue,
                or_(QueueGrant.expires_at.is_(None), QueueGrant.expires_at > now),
            )
            .order_by(QueueGrant.officer_id)
        )
        return list(rows)

    async def enqueue(
        self, officer_id: str, kind: str, dedup_key: str, payload: str, now: dt.datetime
    ) -> bool:
        exists = await self._s.scalar(select(AlertRow.id).where(AlertRow.dedup_key == dedup_key))
        if exists is not None:
            return False
        try:
            async with self._s.begin_nested():
                self._s.add(
                    AlertRow(
                        officer_id=officer_id,
                        kind=kind,
                        dedup_key=dedup_key,
                        payload=payload,
                        created_at=now,
                        next_attempt_at=now,
                        attempts=0,
                    )
                )
        except IntegrityError:  # another scanner enqueued it first
            return False
        return True

    async def claim(self, now: dt.datetime, limit: int, lease: dt.timedelta) -> list[AlertRecord]:
        stmt = (
            select(AlertRow)
            .where(AlertRow.outcome.is_(None), AlertRow.next_attempt_at <= now)
            .order_by(AlertRow.next_attempt_at, AlertRow.created_at, AlertRow.id)
            .limit(limit)
        )
        rows = list(await self._s.scalars(_lock_skipping(self._s, stmt)))
        out = []
        for row in rows:
            row.next_attempt_at = now + lease
            chat = await self._s.get(OfficerChat, row.officer_id)
            out.append(
                AlertRecord(
                    row.id,
                    row.officer_id,
                    row.kind,
                    row.payload,
                    row.attempts,
                    chat.chat_id if chat else None,
                    chat.language if chat else "zh_CN",
                )
            )
        await self._s.flush()
        return out

    async def finish(self, alert_id: str, outcome: str, now: dt.datetime) -> None:
        await self._s.execute(
            update(AlertRow).where(AlertRow.id == alert_id).values(outcome=outcome, sent_at=now)
        )

    async def fail(self, alert_id: str, error: str) -> int:
        await self._s.execute(
            update(AlertRow)
            .where(AlertRow.id == alert_id)
            .values(attempts=AlertRow.attempts + 1, last_error=error[:64])
        )
        attempts = await self._s.scalar(select(AlertRow.attempts).where(AlertRow.id == alert_id))
        return int(attempts or 0)

    async def release(self, alert_ids: list[str], at: dt.datetime) -> None:
        if alert_ids:
            await self._s.execute(
                update(AlertRow)
                .where(AlertRow.id.in_(alert_ids), AlertRow.outcome.is_(None))
                .values(next_attempt_at=at)
            )

    async def counts(self) -> dict[str, int]:
        rows = await self._s.execute(
            select(AlertRow.outcome, func.count()).group_by(AlertRow.outcome)
        )
        return {(outcome or "pending"): int(n) for outcome, n in rows}

    async def open_cases(
        self,
        visible_at: dt.datetime,
        *,
        visible_since: dt.datetime | None = None,
        statuses: tuple[str, ...] | None = None,
        severity: str | None = None,
    ) -> list[AlertCase]:
        stmt = select(Case).where(
            Case.status.in_(statuses or OPEN_STATUSES), Case.visible_after <= visible_at
        )
        if visible_since is not None:
            stmt = stmt.where(Case.visible_after > visible_since)
        if severity is not None:
            stmt = stmt.where(Case.severity == severity)
        cases = list(await self._s.scalars(stmt.order_by(Case.received_on, Case.reference)))
        holders: dict[str, list[str]] = {}
        if cases:
            for case_id, queue in await self._s.execute(
                select(CaseKey.case_id, CaseKey.queue)
                .where(CaseKey.case_id.in_([c.id for c in cases]))
                .order_by(CaseKey.queue)
            ):
                holders.setdefault(case_id, []).append(queue)
        return [
            AlertCase(
                c.id,
                c.reference,
                c.status,
                c.severity,
                c.received_on,
                tuple(holders.get(c.id, ())),
                c.due_on,
            )
            for c in cases
        ]

    async def digest_sent(self, day: dt.date) -> bool:
        return await self._s.get(DigestDay, day) is not None

    async def mark_digest(self, day: dt.date) -> None:
        self._s.add(DigestDay(day=day))
        await self._s.flush()

    async def unlink_officer(self, officer_id: str) -> bool:
        result = await self._s.execute(
            delete(OfficerChat).where(OfficerChat.officer_id == officer_id)
        )
        return bool(getattr(result, "rowcount", 0))

    async def unlink_chat(self, chat_id: int) -> None:
        await self._s.execute(delete(OfficerChat).where(OfficerChat.chat_id == chat_id))

    async def linked_memberships(self, now: dt.datetime) -> list[tuple[str, str]]:
        """(officer id, queue) for every live grant of an enabled officer with a linked chat."""
        rows = await self._s.execute(
            select(QueueGrant.officer_id, QueueGrant.queue)
            .join(OfficerChat, OfficerChat.officer_id == QueueGrant.officer_id)
            .join(Officer, Officer.id == QueueGrant.officer_id)
            .where(
                Officer.disabled.is_(False),
                or_(QueueGrant.expires_at.is_(None), QueueGrant.expires_at > now),
            )
            .order_by(QueueGrant.officer_id, QueueGrant.queue)
        )
        return [(officer_id, queue) for officer_id, queue in rows]

    async def existing_keys(self, keys: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            found |= set(
                await self._s.scalars(
                    select(AlertRow.dedup_key).where(
                        AlertRow.dedup_key.in_(keys[start : start + 500])
                    )
                )
            )
        return found


class SqlRetentionRepository:
    """Finding and deleting closed cases past their retention."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def closed_before(self, day: dt.date) -> list[RetentionCase]:
        linked = select(NotifyLink.case_id)
        rows = await self._s.execute(
            select(
                Case.id,
                Case.reference,
                Case.closed_on,
                Case.not_accepted_reason,
                Case.id.in_(linked),
            )
            .where(Case.status == "closed", Case.closed_on.is_not(None), Case.closed_on <= day)
            .order_by(Case.closed_on, Case.reference)
        )
        return [
            RetentionCase(case_id, reference, closed_on, reason, bool(has_link))
            for case_id, reference, closed_on, reason, has_link in rows
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
