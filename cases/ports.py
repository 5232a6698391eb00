"""What the domain needs from storage: records out, repository interfaces in.

`storage.repositories` implements these against SQLAlchemy; services only see the protocols.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

from storage.crypto.keys import WrappedOfficerKey
from storage.crypto.primitives import KdfCost


@dataclass(frozen=True)
class SiteParams:
    receipt_salt: bytes
    receipt_cost: KdfCost
    recovery_public_key: bytes


@dataclass(frozen=True)
class QueueRecord:
    name: str
    public_key: bytes
    sealed_for_recovery: bytes


@dataclass(frozen=True)
class OfficerRecord:
    id: str
    username: str
    role: str
    disabled: bool
    key: WrappedOfficerKey
    totp_wrapped: bytes | None = None
    # None until the officer activates the account (own password, new key); see cases.officers.
    activated_at: dt.datetime | None = None

    @property
    def activated(self) -> bool:
        return self.activated_at is not None


@dataclass(frozen=True)
class GrantRecord:
    queue: str
    officer_id: str
    sealed_key: bytes
    expires_at: dt.datetime | None


@dataclass(frozen=True)
class CaseRecord:
    id: str
    reference: str
    category: str
    severity: str
    status: str
    routing: str
    received_on: dt.date
    visible_after: dt.datetime
    case_public_key: bytes
    reporter_public_key: bytes
    not_accepted_reason: str | None
    reporter_unreachable: bool
    holders: tuple[str, ...]
    due_on: dt.date | None = None
    handling_due_on: dt.date | None = None
    closed_on: dt.date | None = None
    disposition: str | None = None
    rectification_due_on: dt.date | None = None
    look_back_failures: int = 0
    extended: bool = False


@dataclass(frozen=True)
class ItemRecord:
    id: str
    case_id: str
    position: int
    kind: str
    sealed: bytes
    sealed_for_reporter: bytes | None
    officer_id: str | None
    created_on: dt.date


@dataclass(frozen=True)
class EventRecord:
    id: str
    case_id: str
    position: int
    status: str
    occurred_on: dt.date
    officer_id: str | None
    note_item_id: str | None


@dataclass(frozen=True)
class OutboxRecord:
    id: str
    case_id: str
    event_id: str
    attempts: int


@dataclass(frozen=True)
class LinkRecord:
    case_id: str
    level: str
    sealed: bytes


@dataclass(frozen=True)
class CaseFilter:
    queues: tuple[str, ...]
    visible_at: dt.datetime
    status: str | None = None
    category: str | None = None
    limit: int = 50
    offset: int = 0
    severity: str | None = None
    overdue_on: dt.date | None = None  # only cases whose due date is before this day
    received_from: dt.date | None = None
    received_to: dt.date | None = None
    sort: str = "received"  # "received" (newest first) or "due" (soonest first)


class SiteRepository(Protocol):
    async def get(self) -> SiteParams | None: ...
    async def create(self, params: SiteParams, now: dt.datetime) -> None: ...
    async def queues(self) -> list[QueueRecord]: ...
    async def add_queue(self, queue: QueueRecord) -> None: ...


class OfficerRepository(Protocol):
    async def add(self, officer: OfficerRecord, now: dt.datetime) -> None: ...
    async def by_username(self, username: str) -> OfficerRecord | None: ...
    async def by_id(self, officer_id: str) -> OfficerRecord | None: ...
    async def grants_of(self, officer_id: str) -> list[GrantRecord]: ...
    async def put_grant(self, grant: GrantRecord, now: dt.datetime) -> None: ...


class CaseRepository(Protocol):
    async def add(
        self, case: CaseRecord, lookup_tag: bytes, case_keys: dict[str, bytes]
    ) -> None: ...
    async def by_reference(self, reference: str) -> CaseRecord | None: ...
    async def by_id(self, case_id: str) -> CaseRecord | None: ...
    async def by_lookup_tag(self, tag: bytes) -> CaseRecord | None: ...
    async def reference_taken(self, reference: str) -> bool: ...
    async def search(self, query: CaseFilter) -> list[CaseRecord]: ...
    async def case_keys(self, case_id: str) -> dict[str, bytes]: ...
    async def replace_case_keys(self, case_id: str, case_keys: dict[str, bytes]) -> None: ...
    async def update(self, case_id: str, **fields: object) -> None: ...
    async def add_item(self, item: ItemRecord) -> None: ...
    async def items(self, case_id: str) -> list[ItemRecord]: ...
    async def item(self, item_id: str) -> ItemRecord | None: ...
    async def add_event(self, event: EventRecord) -> None: ...
    async def events(self, case_id: str) -> list[EventRecord]: ...
    async def next_position(self, case_id: str) -> int: ...


class OutboxRepository(Protocol):
    async def add(self, case_id: str, event_id: str, now: dt.datetime) -> str: ...
    async def claim_due(
        self, now: dt.datetime, limit: int, lease: dt.timedelta
    ) -> list[OutboxRecord]: ...
    async def finish(self, row_id: str, outcome: str, now: dt.datetime) -> None: ...
    async def retry_later(self, row_id: str, at: dt.datetime, error: str) -> None: ...
    async def get_link(self, case_id: str) -> LinkRecord | None: ...
    async def put_link(self, link: LinkRecord) -> None: ...
    async def delete_link(self, case_id: str) -> None: ...


class AuditRepository(Protocol):
    async def append(
        self,
        *,
        at: dt.datetime,
        officer_id: str | None,
        action: str,
        case_reference: str | None,
        detail: str,
    ) -> None: ...


@dataclass(frozen=True)
class TransferRecord:
    id: str
    case_id: str
    from_queue: str
    to_queue: str
    status: str
    requested_on: dt.date
    respond_by: dt.date
    responded_on: dt.date | None
    sealed_case_key: bytes | None
    feedback_item_id: str
    reason_item_id: str | None
    requested_by: str
    sealed_feedback: bytes | None = None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    officer_id: str | None
    action: str
    case_reference: str | None
    detail: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class MemberRecord:
    queue: str
    officer_id: str
    username: str
    granted_at: dt.datetime
    expires_at: dt.datetime | None


class AccountRepository(Protocol):
    """Officer account changes the administrator and the officers themselves make."""

    async def all(self) -> list[OfficerRecord]: ...
    async def set_role(self, officer_id: str, role: str) -> None: ...
    async def set_disabled(self, officer_id: str, disabled: bool) -> None: ...
    async def replace_key(
        self, officer_id: str, key: WrappedOfficerKey, totp_wrapped: bytes | None
    ) -> None: ...
    async def set_totp(self, officer_id: str, totp_wrapped: bytes | None) -> None: ...
    async def activate(
        self, officer_id: str, key: WrappedOfficerKey, totp_wrapped: bytes, at: dt.datetime
    ) -> bool: ...
    async def reset_key(self, officer_id: str, key: WrappedOfficerKey) -> None: ...
    async def members(self, queue: str) -> list[MemberRecord]: ...
    async def delete_grant(self, queue: str, officer_id: str) -> bool: ...
    async def delete_grants_of(self, officer_id: str) -> None: ...
    async def delete_expired_grants(self, now: dt.datetime) -> list[MemberRecord]: ...
    async def claim_totp_step(self, officer_id: str, step: int) -> bool: ...


class TransferRepository(Protocol):
    async def add(self, transfer: TransferRecord) -> None: ...
    async def get(self, transfer_id: str) -> TransferRecord | None: ...
    async def pending_for_case(self, case_id: str) -> list[TransferRecord]: ...
    async def for_queues(
        self, queues: tuple[str, ...], status: str | None
    ) -> list[TransferRecord]: ...
    async def resolve(
        self, transfer_id: str, status: str, on: dt.date, reason_item_id: str | None
    ) -> None: ...


class AuditLogReader(Protocol):
    async def page(self, limit: int, offset: int, action: str | None) -> list[AuditEntry]: ...
    async def chain(self) -> list[AuditEntry]: ...


class StatsRepository(Protocol):
    async def received_before(self, day: dt.date) -> list[CaseRecord]: ...


class UnitOfWork(Protocol):
    """One transaction over all repositories; leaving the block without commit rolls back."""

    site: SiteRepository
    officers: OfficerRepository
    cases: CaseRepository
    outbox: OutboxRepository
    audit: AuditRepository
    accounts: AccountRepository
    transfers: TransferRepository
    audit_log: AuditLogReader
    stats: StatsRepository
    intake_meta: IntakeMetaRepository

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


@dataclass(frozen=True)
class IntakeMetaRecord:
    """What intake learned besides the sealed content: recusal and the triage suggestion.

    Metadata only: rule ids and codes, never report text.
    """

    case_id: str
    involves_handler: str | None
    handler_route: str | None
    suggested_category: str | None
    suggested_routing: str | None
    # The rules' urgent flag; the reporter's own answer is among `rules` (`cases.danger`).
    urgent: bool
    # Ids of the rules that fired, and `reporter:danger=<answer>` when the reporter was asked.
    rules: tuple[str, ...]


class IntakeMetaRepository(Protocol):
    async def put(self, meta: IntakeMetaRecord) -> None: ...
    async def get(self, case_id: str) -> IntakeMetaRecord | None: ...
