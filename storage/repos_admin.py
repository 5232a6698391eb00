"""Repositories for the admin side: accounts and queue membership, transfers, audit reading,
statistics rows. Same rules as `storage.repositories`: records out, the unit of work commits."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cases.ports import AuditEntry, CaseRecord, MemberRecord, OfficerRecord, TransferRecord
from storage.crypto.keys import WrappedOfficerKey
from storage.models import AuditRow, Case, Officer, QueueGrant, Transfer
from storage.repositories import SqlCaseRepository, _officer


def _key_values(key: WrappedOfficerKey) -> dict[str, Any]:
    return {
        "public_key": key.public_key,
        "kdf_salt": key.salt,
        "kdf_memory_kib": key.cost.memory_kib,
        "kdf_iterations": key.cost.iterations,
        "kdf_lanes": key.cost.lanes,
        "verifier": key.verifier,
        "wrapped_private_key": key.wrapped_private,
    }


class SqlAccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def all(self) -> list[OfficerRecord]:
        rows = await self._s.scalars(select(Officer).order_by(Officer.username))
        return [_officer(r) for r in rows]

    async def set_role(self, officer_id: str, role: str) -> None:
        await self._s.execute(update(Officer).where(Officer.id == officer_id).values(role=role))

    async def set_disabled(self, officer_id: str, disabled: bool) -> None:
        await self._s.execute(
            update(Officer).where(Officer.id == officer_id).values(disabled=disabled)
        )

    async def replace_key(
        self, officer_id: str, key: WrappedOfficerKey, totp_wrapped: bytes | None
    ) -> None:
        await self._s.execute(
            update(Officer)
            .where(Officer.id == officer_id)
            .values(**_key_values(key), totp_wrapped=totp_wrapped)
        )

    async def activate(
        self, officer_id: str, key: WrappedOfficerKey, totp_wrapped: bytes, at: dt.datetime
    ) -> bool:
        """The officer's own key and authenticator; False if the account was already activated
        (one conditional UPDATE, so of two racing activations only one wins)."""
        result = await self._s.execute(
            update(Officer)
            .where(Officer.id == officer_id, Officer.activated_at.is_(None))
            .values(**_key_values(key), totp_wrapped=totp_wrapped, activated_at=at)
        )
        return bool(cast(CursorResult[Any], result).rowcount == 1)

    async def reset_key(self, officer_id: str, key: WrappedOfficerKey) -> None:
        """An administrator's reset: a placeholder key, no authenticator, not activated."""
        await self._s.execute(
            update(Officer)
            .where(Officer.id == officer_id)
            .values(**_key_values(key), totp_wrapped=None, activated_at=None)
        )

    async def set_totp(self, officer_id: str, totp_wrapped: bytes | None) -> None:
        await self._s.execute(
            update(Officer).where(Officer.id == officer_id).values(totp_wrapped=totp_wrapped)
        )

    async def members(self, queue: str) -> list[MemberRecord]:
        rows = await self._s.execute(
            select(QueueGrant, Officer.username)
            .join(Officer, Officer.id == QueueGrant.officer_id)
            .where(QueueGrant.queue == queue)
            .order_by(Officer.username)
        )
        return [
            MemberRecord(g.queue, g.officer_id, username, g.granted_at, g.expires_at)
            for g, username in rows
        ]

    async def delete_grant(self, queue: str, officer_id: str) -> bool:
        found = await self._s.scalar(
            select(QueueGrant.officer_id).where(
                QueueGrant.queue == queue, QueueGrant.officer_id == officer_id
            )
        )
        await self._s.execute(
            delete(QueueGrant).where(QueueGrant.queue == queue, QueueGrant.officer_id == officer_id)
        )
        return found is not None

    async def delete_grants_of(self, officer_id: str) -> None:
        await self._s.execute(delete(QueueGrant).where(QueueGrant.officer_id == officer_id))

    async def delete_expired_grants(self, now: dt.datetime) -> list[MemberRecord]:
        rows = await self._s.execute(
            select(QueueGrant, Officer.username)
            .join(Officer, Officer.id == QueueGrant.officer_id)
            .where(QueueGrant.expires_at.is_not(None), QueueGrant.expires_at <= now)
        )
        expired = [
            MemberRecord(g.queue, g.officer_id, username, g.granted_at, g.expires_at)
            for g, username in rows
        ]
        await self._s.execute(
            delete(QueueGrant).where(
                QueueGrant.expires_at.is_not(None), QueueGrant.expires_at <= now
            )
        )
        return expired

    async def claim_totp_step(self, officer_id: str, step: int) -> bool:
        result = await self._s.execute(
            update(Officer)
            .where(
                Officer.id == officer_id,
                or_(Officer.totp_last_step.is_(None), Officer.totp_last_step < step),
            )
            .values(totp_last_step=step)
        )
        return bool(cast(CursorResult[Any], result).rowcount == 1)


def _transfer(t: Transfer) -> TransferRecord:
    return TransferRecord(
        t.id,
        t.case_id,
        t.from_queue,
        t.to_queue,
        t.status,
        t.requested_on,
        t.respond_by,
        t.responded_on,
        t.sealed_case_key,
        t.feedback_item_id,
        t.reason_item_id,
        t.requested_by,
        t.sealed_feedback,
    )


class SqlTransferRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, transfer: TransferRecord) -> None:
        self._s.add(
            Transfer(
                id=transfer.id,
                case_id=transfer.case_id,
                from_queue=transfer.from_queue,
                to_queue=transfer.to_queue,
                status=transfer.status,
                requested_on=transfer.requested_on,
                respond_by=transfer.respond_by,
                responded_on=None,
                sealed_case_key=transfer.sealed_case_key,
                feedback_item_id=transfer.feedback_item_id,
                reason_item_id=None,
                requested_by=transfer.requested_by,
                sealed_feedback=transfer.sealed_feedback,
            )
        )
        await self._s.flush()

    async def get(self, transfer_id: str) -> TransferRecord | None:
        row = await self._s.get(Transfer, transfer_id)
        return _transfer(row) if row else None

    async def pending_for_case(self, case_id: str) -> list[TransferRecord]:
        rows = await self._s.scalars(
            select(Transfer).where(Transfer.case_id == case_id, Transfer.status == "pending")
        )
        return [_transfer(r) for r in rows]

    async def for_queues(self, queues: tuple[str, ...], status: str | None) -> list[TransferRecord]:
        stmt = select(Transfer).where(
            (Transfer.to_queue.in_(queues)) | (Transfer.from_queue.in_(queues))
        )
        if status:
            stmt = stmt.where(Transfer.status == status)
        rows = await self._s.scalars(stmt.order_by(Transfer.respond_by, Transfer.id))
        return [_transfer(r) for r in rows]

    async def resolve(
        self, transfer_id: str, status: str, on: dt.date, reason_item_id: str | None
    ) -> None:
        # The sealed case key goes with the decision: moved into case_keys or dropped.
        await self._s.execute(
            update(Transfer)
            .where(Transfer.id == transfer_id)
            .values(
                status=status,
                responded_on=on,
                reason_item_id=reason_item_id,
                sealed_case_key=None,
            )
        )


def _entry(r: AuditRow) -> AuditEntry:
    return AuditEntry(
        r.id, r.at, r.officer_id, r.action, r.case_reference, r.detail, r.prev_hash, r.hash
    )


class SqlAuditLogReader:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def page(self, limit: int, offset: int, action: str | None) -> list[AuditEntry]:
        stmt = select(AuditRow)
        if action:
            stmt = stmt.where(AuditRow.action == action)
        rows = await self._s.scalars(stmt.order_by(AuditRow.id.desc()).limit(limit).offset(offset))
        return [_entry(r) for r in rows]

    async def chain(self) -> list[AuditEntry]:
        rows = await self._s.scalars(select(AuditRow).order_by(AuditRow.id))
        return [_entry(r) for r in rows]


class SqlStatsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._cases = SqlCaseRepository(session)
        self._s = session

    async def received_before(self, day: dt.date) -> list[CaseRecord]:
        """Every case received before `day`, visible to officers yet or not: the set must not
        grow after `day` when a case's P8 delay runs out. Such a case is counted only once
        its month has ended, among all of that month's."""
        rows = await self._s.scalars(select(Case).where(Case.received_on < day))
        return [await self._cases._record(r) for r in rows]
