"""SQLAlchemy implementation of `cases.ports_notify.AlertRepository`: officer alert chats,
one-time link codes and the alert queue. Officers are not anonymous, so chat ids are stored
plainly here; alerts hold metadata only (reference, queue, severity, due date).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cases.ports_notify import AlertCase, AlertRecord
from storage.models import Case, CaseKey, Officer, QueueGrant
from storage.models_notify import AlertLinkCode, AlertRow, DigestDay, OfficerChat
from storage.repos_locking import lock_skipping

OPEN_STATUSES = ("received", "accepted", "in_progress", "waiting_reporter", "rectification",
                 "look_back")  # fmt: skip


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
        row = AlertRow(
            officer_id=officer_id,
            kind=kind,
            dedup_key=dedup_key,
            payload=payload,
            created_at=now,
            next_attempt_at=now,
            attempts=0,
        )
        if self._s.get_bind().dialect.name != "postgresql":
            # No savepoint on SQLite: pysqlite commits a savepoint released outside a
            # transaction it began, which would break the caller's transaction. SQLite has one
            # writer at a time; a rare duplicate fails the whole scan, which runs again.
            self._s.add(row)
            await self._s.flush()
            return True
        try:
            async with self._s.begin_nested():
                self._s.add(row)
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
        rows = list(await self._s.scalars(lock_skipping(self._s, stmt)))
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

    async def purge_settled(self, before: dt.datetime) -> None:
        await self._s.execute(
            delete(AlertRow).where(AlertRow.outcome.is_not(None), AlertRow.created_at < before)
        )

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
