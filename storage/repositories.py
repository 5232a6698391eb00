"""SQLAlchemy implementations of the repository interfaces in `cases.ports`.

Repositories take the session; the unit of work commits. ORM rows never leave this module:
callers get the frozen records of `cases.ports`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self, cast

from sqlalchemy import CursorResult, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases.errors import KeyPinMismatch
from cases.ports import (
    AccountRepository,
    AuditLogReader,
    AuditRepository,
    CaseFilter,
    CaseRecord,
    CaseRepository,
    EventRecord,
    GrantRecord,
    IntakeMetaRepository,
    ItemRecord,
    LinkRecord,
    OfficerRecord,
    OfficerRepository,
    OutboxRecord,
    OutboxRepository,
    QueueRecord,
    SiteParams,
    SiteRepository,
    StatsRepository,
    TransferRepository,
)
from storage.crypto.keys import WrappedOfficerKey, queue_key_pin
from storage.crypto.primitives import KdfCost
from storage.models import (
    AuditRow,
    Case,
    CaseEvent,
    CaseItem,
    CaseKey,
    NotifyLink,
    Officer,
    OutboxRow,
    Queue,
    QueueGrant,
    Site,
)
from storage.repos_reporter import SqlIntakeMetaRepository

GENESIS_HASH = "0" * 64
# Columns a request decides from (which move is allowed, whether the one extension is used):
# only `SqlCaseRepository.claim` writes them, comparing first (see there).
GUARDED_CASE_COLUMNS = frozenset({"status", "extended"})


class SqlSiteRepository:
    def __init__(self, session: AsyncSession, queue_pin: str | None = None) -> None:
        self._s = session
        self._queue_pin = queue_pin

    async def get(self) -> SiteParams | None:
        row = await self._s.get(Site, 1)
        if row is None:
            return None
        cost = KdfCost(
            row.receipt_kdf_memory_kib, row.receipt_kdf_iterations, row.receipt_kdf_lanes
        )
        return SiteParams(row.receipt_salt, cost, row.recovery_public_key)

    async def create(self, params: SiteParams, now: dt.datetime) -> None:
        self._s.add(
            Site(
                id=1,
                receipt_salt=params.receipt_salt,
                receipt_kdf_memory_kib=params.receipt_cost.memory_kib,
                receipt_kdf_iterations=params.receipt_cost.iterations,
                receipt_kdf_lanes=params.receipt_cost.lanes,
                recovery_public_key=params.recovery_public_key,
                created_at=now,
            )
        )

    async def queues(self) -> list[QueueRecord]:
        rows = await self._s.scalars(select(Queue).order_by(Queue.name))
        queues = [QueueRecord(q.name, q.public_key, q.sealed_for_recovery) for q in rows]
        # Every seal to a queue key reads the keys here, so this one check covers them all.
        if self._queue_pin and queues:
            found = queue_key_pin({q.name: q.public_key for q in queues})
            if not hmac.compare_digest(found, self._queue_pin):
                raise KeyPinMismatch("queue public keys differ from SPEAKUP_QUEUE_KEY_PIN")
        return queues

    async def add_queue(self, queue: QueueRecord) -> None:
        self._s.add(
            Queue(
                name=queue.name,
                public_key=queue.public_key,
                sealed_for_recovery=queue.sealed_for_recovery,
            )
        )


def _officer(row: Officer) -> OfficerRecord:
    key = WrappedOfficerKey(
        public_key=row.public_key,
        salt=row.kdf_salt,
        verifier=row.verifier,
        wrapped_private=row.wrapped_private_key,
        cost=KdfCost(row.kdf_memory_kib, row.kdf_iterations, row.kdf_lanes),
    )
    return OfficerRecord(
        row.id, row.username, row.role, row.disabled, key, row.totp_wrapped, row.activated_at
    )


class SqlOfficerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, officer: OfficerRecord, now: dt.datetime) -> None:
        key = officer.key
        self._s.add(
            Officer(
                id=officer.id,
                username=officer.username,
                role=officer.role,
                public_key=key.public_key,
                kdf_salt=key.salt,
                kdf_memory_kib=key.cost.memory_kib,
                kdf_iterations=key.cost.iterations,
                kdf_lanes=key.cost.lanes,
                verifier=key.verifier,
                wrapped_private_key=key.wrapped_private,
                disabled=officer.disabled,
                created_at=now,
            )
        )
        await self._s.flush()

    async def by_username(self, username: str) -> OfficerRecord | None:
        row = await self._s.scalar(select(Officer).where(Officer.username == username))
        return _officer(row) if row else None

    async def by_id(self, officer_id: str) -> OfficerRecord | None:
        row = await self._s.get(Officer, officer_id)
        return _officer(row) if row else None

    async def grants_of(self, officer_id: str) -> list[GrantRecord]:
        rows = await self._s.scalars(select(QueueGrant).where(QueueGrant.officer_id == officer_id))
        return [GrantRecord(g.queue, g.officer_id, g.sealed_key, g.expires_at) for g in rows]

    async def put_grant(self, grant: GrantRecord, now: dt.datetime) -> None:
        await self._s.execute(
            delete(QueueGrant).where(
                QueueGrant.queue == grant.queue, QueueGrant.officer_id == grant.officer_id
            )
        )
        self._s.add(
            QueueGrant(
                queue=grant.queue,
                officer_id=grant.officer_id,
                sealed_key=grant.sealed_key,
                granted_at=now,
                expires_at=grant.expires_at,
            )
        )


class SqlCaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def _record(self, row: Case) -> CaseRecord:
        holders = await self._s.scalars(
            select(CaseKey.queue).where(CaseKey.case_id == row.id).order_by(CaseKey.queue)
        )
        return CaseRecord(
            id=row.id,
            reference=row.reference,
            category=row.category,
            severity=row.severity,
            status=row.status,
            routing=row.routing,
            received_on=row.received_on,
            visible_after=row.visible_after,
            case_public_key=row.case_public_key,
            reporter_public_key=row.reporter_public_key,
            not_accepted_reason=row.not_accepted_reason,
            reporter_unreachable=row.reporter_unreachable,
            holders=tuple(holders),
            due_on=row.due_on,
            handling_due_on=row.handling_due_on,
            closed_on=row.closed_on,
            disposition=row.disposition,
            rectification_due_on=row.rectification_due_on,
            look_back_failures=row.look_back_failures or 0,
            extended=bool(row.extended),
        )

    async def add(self, case: CaseRecord, lookup_tag: bytes, case_keys: dict[str, bytes]) -> None:
        self._s.add(
            Case(
                id=case.id,
                reference=case.reference,
                category=case.category,
                severity=case.severity,
                status=case.status,
                routing=case.routing,
                received_on=case.received_on,
                visible_after=case.visible_after,
                case_public_key=case.case_public_key,
                reporter_public_key=case.reporter_public_key,
                lookup_tag=lookup_tag,
                not_accepted_reason=case.not_accepted_reason,
                reporter_unreachable=case.reporter_unreachable,
                due_on=case.due_on,
                handling_due_on=case.handling_due_on,
            )
        )
        await self._s.flush()
        await self.replace_case_keys(case.id, case_keys)

    # Every read goes to the database (`populate_existing`): after a claim the session must
    # see the row as it now is, not the copy it loaded before another request's commit.
    async def by_reference(self, reference: str) -> CaseRecord | None:
        stmt = select(Case).where(Case.reference == reference)
        row = await self._s.scalar(stmt.execution_options(populate_existing=True))
        return await self._record(row) if row else None

    async def by_id(self, case_id: str) -> CaseRecord | None:
        row = await self._s.get(Case, case_id, populate_existing=True)
        return await self._record(row) if row else None

    async def by_lookup_tag(self, tag: bytes) -> CaseRecord | None:
        stmt = select(Case).where(Case.lookup_tag == tag)
        row = await self._s.scalar(stmt.execution_options(populate_existing=True))
        return await self._record(row) if row else None

    async def reference_taken(self, reference: str) -> bool:
        found = await self._s.scalar(select(Case.id).where(Case.reference == reference))
        return found is not None

    async def search(self, query: CaseFilter) -> list[CaseRecord]:
        held = select(CaseKey.case_id).where(CaseKey.queue.in_(query.queues))
        stmt = select(Case).where(Case.id.in_(held), Case.visible_after <= query.visible_at)
        if query.status:
            stmt = stmt.where(Case.status == query.status)
        if query.category:
            stmt = stmt.where(Case.category == query.category)
        if query.severity:
            stmt = stmt.where(Case.severity == query.severity)
        if query.overdue_on is not None:
            stmt = stmt.where(Case.due_on < query.overdue_on)
        if query.received_from is not None:
            stmt = stmt.where(Case.received_on >= query.received_from)
        if query.received_to is not None:
            stmt = stmt.where(Case.received_on <= query.received_to)
        if query.sort == "due":
            # Cases without a due date (closed) sort last on both backends.
            order = (Case.due_on.is_(None), Case.due_on, Case.reference)
        else:
            order = (Case.received_on.desc(), Case.reference)  # type: ignore[assignment]
        stmt = stmt.order_by(*order).limit(query.limit).offset(query.offset)
        return [await self._record(row) for row in await self._s.scalars(stmt)]

    async def case_keys(self, case_id: str) -> dict[str, bytes]:
        rows = await self._s.scalars(select(CaseKey).where(CaseKey.case_id == case_id))
        return {k.queue: k.sealed_key for k in rows}

    async def replace_case_keys(self, case_id: str, case_keys: dict[str, bytes]) -> None:
        await self._s.execute(delete(CaseKey).where(CaseKey.case_id == case_id))
        for queue, sealed in case_keys.items():
            self._s.add(CaseKey(case_id=case_id, queue=queue, sealed_key=sealed))
        await self._s.flush()

    async def update(self, case_id: str, **fields: object) -> None:
        """Write fields no decision depends on (deadlines, routing, reachability)."""
        if guarded := GUARDED_CASE_COLUMNS & fields.keys():
            raise ValueError(f"{sorted(guarded)} change only through claim()")
        await self._s.execute(update(Case).where(Case.id == case_id).values(**fields))

    async def claim(self, case_id: str, expected: Mapping[str, object], **fields: object) -> bool:
        """Compare-and-set: write `fields` only where the row still holds `expected` (at least
        its status); False when it no longer does, and then nothing was written.

        `UPDATE cases SET … WHERE id = :id AND status = :expected …` is decided by the database
        against the newest committed row: on PostgreSQL a concurrent claimer waits for the row
        lock and re-checks the condition after the other commits; on SQLite the statement takes
        the one write lock and, being the transaction's first write, reads the newest commit.
        Either way the row stays locked until commit, so what the claimer reads afterwards is
        current. With no `fields` the status is written back unchanged, only to claim the row.
        """
        if "status" not in expected:
            raise ValueError("a claim compares at least the status")
        conditions = [getattr(Case, name) == value for name, value in expected.items()]
        values = fields or {"status": expected["status"]}
        result = await self._s.execute(
            update(Case).where(Case.id == case_id, *conditions).values(**values)
        )
        return bool(cast(CursorResult[Any], result).rowcount == 1)

    async def add_item(self, item: ItemRecord) -> None:
        self._s.add(
            CaseItem(
                id=item.id,
                case_id=item.case_id,
                position=item.position,
                kind=item.kind,
                sealed=item.sealed,
                sealed_for_reporter=item.sealed_for_reporter,
                officer_id=item.officer_id,
                created_on=item.created_on,
            )
        )
        await self._s.flush()

    async def items(self, case_id: str) -> list[ItemRecord]:
        rows = await self._s.scalars(
            select(CaseItem).where(CaseItem.case_id == case_id).order_by(CaseItem.position)
        )
        return [_item(r) for r in rows]

    async def count_items(self, case_id: str, kind: str, created_on: dt.date) -> int:
        count = await self._s.scalar(
            select(func.count())
            .select_from(CaseItem)
            .where(
                CaseItem.case_id == case_id,
                CaseItem.kind == kind,
                CaseItem.created_on == created_on,
            )
        )
        return count or 0

    async def item(self, item_id: str) -> ItemRecord | None:
        row = await self._s.get(CaseItem, item_id)
        return _item(row) if row else None

    async def add_event(self, event: EventRecord) -> None:
        self._s.add(
            CaseEvent(
                id=event.id,
                case_id=event.case_id,
                position=event.position,
                status=event.status,
                occurred_on=event.occurred_on,
                officer_id=event.officer_id,
                note_item_id=event.note_item_id,
            )
        )
        await self._s.flush()

    async def events(self, case_id: str) -> list[EventRecord]:
        rows = await self._s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.position)
        )
        return [
            EventRecord(
                e.id, e.case_id, e.position, e.status, e.occurred_on, e.officer_id, e.note_item_id
            )
            for e in rows
        ]

    async def next_position(self, case_id: str) -> int:
        # Items and events share one counter per case so the history interleaves in order.
        items = await self._s.scalar(
            select(func.max(CaseItem.position)).where(CaseItem.case_id == case_id)
        )
        events = await self._s.scalar(
            select(func.max(CaseEvent.position)).where(CaseEvent.case_id == case_id)
        )
        return max(items or 0, events or 0) + 1


def _item(r: CaseItem) -> ItemRecord:
    return ItemRecord(
        r.id,
        r.case_id,
        r.position,
        r.kind,
        r.sealed,
        r.sealed_for_reporter,
        r.officer_id,
        r.created_on,
    )


class SqlOutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, case_id: str, event_id: str, now: dt.datetime) -> str:
        row = OutboxRow(
            case_id=case_id, event_id=event_id, created_at=now, next_attempt_at=now, attempts=0
        )
        self._s.add(row)
        await self._s.flush()
        return row.id

    async def claim_due(
        self, now: dt.datetime, limit: int, lease: dt.timedelta
    ) -> list[OutboxRecord]:
        """Pending rows that are due, leased for `lease` so no other worker takes them.

        On PostgreSQL `FOR UPDATE SKIP LOCKED` lets several workers claim disjoint rows; SQLite
        serialises writers, so the lease update alone is enough there.
        """
        stmt = (
            select(OutboxRow)
            .where(OutboxRow.outcome.is_(None), OutboxRow.next_attempt_at <= now)
            .order_by(OutboxRow.next_attempt_at, OutboxRow.created_at)
            .limit(limit)
        )
        if self._s.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        rows = list(await self._s.scalars(stmt))
        for row in rows:
            row.next_attempt_at = now + lease
            row.attempts += 1
        await self._s.flush()
        return [OutboxRecord(r.id, r.case_id, r.event_id, r.attempts) for r in rows]

    async def finish(self, row_id: str, outcome: str, now: dt.datetime) -> None:
        await self._s.execute(
            update(OutboxRow).where(OutboxRow.id == row_id).values(outcome=outcome, sent_at=now)
        )

    async def retry_later(self, row_id: str, at: dt.datetime, error: str) -> None:
        await self._s.execute(
            update(OutboxRow)
            .where(OutboxRow.id == row_id)
            .values(next_attempt_at=at, last_error=error[:64])
        )

    async def get_link(self, case_id: str) -> LinkRecord | None:
        row = await self._s.get(NotifyLink, case_id)
        return LinkRecord(row.case_id, row.level, row.sealed) if row else None

    async def put_link(self, link: LinkRecord) -> None:
        await self.delete_link(link.case_id)
        self._s.add(NotifyLink(case_id=link.case_id, level=link.level, sealed=link.sealed))

    async def delete_link(self, case_id: str) -> None:
        await self._s.execute(delete(NotifyLink).where(NotifyLink.case_id == case_id))


def audit_hash(
    prev_hash: str,
    at: dt.datetime,
    officer_id: str | None,
    action: str,
    case_reference: str | None,
    detail: str,
) -> str:
    """The chain link: SHA-256 over the previous hash and this row's fields."""
    body = json.dumps(
        [prev_hash, at.isoformat(), officer_id, action, case_reference, detail],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


class SqlAuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def _lock_chain(self) -> None:
        """Hold the chain's head until commit, so two transactions never chain from one row.

        PostgreSQL: a transaction-scoped advisory lock; under READ COMMITTED the head read after
        it sees the previous appender's committed row. SQLite: the driver opens a transaction
        only at the first write, so a transaction that has only read (a case view, a login)
        holds no lock at all. A write that changes nothing takes SQLite's one write lock now —
        waiting out other connections and processes under the busy timeout — and in WAL mode a
        writer always reads the newest commit.
        """
        if self._s.get_bind().dialect.name == "postgresql":
            await self._s.execute(text("SELECT pg_advisory_xact_lock(7710001)"))
        else:
            await self._s.execute(text("UPDATE audit_log SET id = id WHERE id < 0"))

    async def append(
        self,
        *,
        at: dt.datetime,
        officer_id: str | None,
        action: str,
        case_reference: str | None,
        detail: str,
    ) -> None:
        await self._lock_chain()
        last = await self._s.scalar(select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1))
        prev = last or GENESIS_HASH
        at = at.replace(microsecond=0)
        self._s.add(
            AuditRow(
                at=at,
                officer_id=officer_id,
                action=action,
                case_reference=case_reference,
                detail=detail,
                prev_hash=prev,
                hash=audit_hash(prev, at, officer_id, action, case_reference, detail),
            )
        )
        await self._s.flush()


class SqlUnitOfWork:
    """One session, one transaction, all repositories."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], queue_pin: str | None = None
    ) -> None:
        self._sessionmaker = sessionmaker
        self._queue_pin = queue_pin

    async def __aenter__(self) -> Self:
        self._session = self._sessionmaker()
        self.site: SiteRepository = SqlSiteRepository(self._session, self._queue_pin)
        self.officers: OfficerRepository = SqlOfficerRepository(self._session)
        self.cases: CaseRepository = SqlCaseRepository(self._session)
        self.outbox: OutboxRepository = SqlOutboxRepository(self._session)
        self.audit: AuditRepository = SqlAuditRepository(self._session)
        # Imported here: repos_admin builds on this module's helpers.
        from storage import repos_admin

        self.accounts: AccountRepository = repos_admin.SqlAccountRepository(self._session)
        self.transfers: TransferRepository = repos_admin.SqlTransferRepository(self._session)
        self.audit_log: AuditLogReader = repos_admin.SqlAuditLogReader(self._session)
        self.stats: StatsRepository = repos_admin.SqlStatsRepository(self._session)
        self.intake_meta: IntakeMetaRepository = SqlIntakeMetaRepository(self._session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._session.rollback()
        await self._session.close()

    async def commit(self) -> None:
        await self._session.commit()

    async def rollback(self) -> None:
        """Drop what this transaction wrote; the unit of work stays usable for a new one."""
        await self._session.rollback()
