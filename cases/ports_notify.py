"""What the notifier, officer alerts and retention need from storage, beyond `cases.ports`.

Kept apart from `cases.ports` so the notification work stays in its own modules;
`storage.repos_notify` implements these against SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from cases.ports import UnitOfWork


@dataclass(frozen=True)
class DeliveryRow:
    """A claimed reporter outbox row."""

    id: str
    case_id: str
    event_id: str
    attempts: int
    parts_sent: int


@dataclass(frozen=True)
class AlertRecord:
    """A claimed officer alert: metadata only (see `cases.alerts`)."""

    id: str
    officer_id: str
    kind: str
    payload: str
    attempts: int
    chat_id: int | None
    language: str


@dataclass(frozen=True)
class AlertCase:
    """What an alert may say about a case: never its content."""

    id: str
    reference: str
    status: str
    severity: str
    received_on: dt.date
    holders: tuple[str, ...]
    due_on: dt.date | None = None


@dataclass(frozen=True)
class RetentionCase:
    """A closed case as the retention job sees it."""

    id: str
    reference: str
    closed_on: dt.date
    not_accepted_reason: str | None
    has_link: bool
    disposition: str | None = None
    # The statuses of its events, oldest first: what happened, which fields a later round of
    # handling leaves standing (a not-accepted reason, an earlier disposition) do not tell.
    history: tuple[str, ...] = ()


class DeliveryRepository(Protocol):
    async def claim(
        self, now: dt.datetime, limit: int, lease: dt.timedelta
    ) -> list[DeliveryRow]: ...
    async def part_sent(self, row_id: str, parts: int) -> None: ...
    async def fail(self, row_id: str, error: str) -> int: ...
    async def release(self, row_ids: list[str], at: dt.datetime) -> None: ...
    async def counts(self) -> dict[str, int]: ...


class AlertRepository(Protocol):
    async def put_code(
        self, code_hash: bytes, officer_id: str, expires_at: dt.datetime
    ) -> None: ...
    async def take_code(self, code_hash: bytes, now: dt.datetime) -> str | None: ...
    async def link_chat(
        self, officer_id: str, chat_id: int, language: str, now: dt.datetime
    ) -> None: ...
    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> None: ...
    async def members(self, queue: str, now: dt.datetime) -> list[str]: ...
    async def enqueue(
        self, officer_id: str, kind: str, dedup_key: str, payload: str, now: dt.datetime
    ) -> bool: ...
    async def claim(
        self, now: dt.datetime, limit: int, lease: dt.timedelta
    ) -> list[AlertRecord]: ...
    async def finish(self, alert_id: str, outcome: str, now: dt.datetime) -> None: ...
    async def fail(self, alert_id: str, error: str) -> int: ...
    async def release(self, alert_ids: list[str], at: dt.datetime) -> None: ...
    async def counts(self) -> dict[str, int]: ...
    async def open_cases(
        self,
        visible_at: dt.datetime,
        *,
        visible_since: dt.datetime | None = None,
        statuses: tuple[str, ...] | None = None,
        severity: str | None = None,
    ) -> list[AlertCase]: ...
    async def digest_sent(self, day: dt.date) -> bool: ...
    async def mark_digest(self, day: dt.date) -> None: ...
    async def unlink_officer(self, officer_id: str) -> bool: ...
    async def unlink_chat(self, chat_id: int) -> None: ...
    async def linked_memberships(self, now: dt.datetime) -> list[tuple[str, str]]: ...
    async def existing_keys(self, keys: list[str]) -> set[str]: ...
    async def purge_settled(self, before: dt.datetime) -> None: ...


class RetentionRepository(Protocol):
    async def closed_before(self, day: dt.date) -> list[RetentionCase]: ...
    async def purge_case(self, case_id: str) -> None: ...


class NotifyUnitOfWork(UnitOfWork, Protocol):
    """The unit of work with the notifier's repositories as well."""

    delivery: DeliveryRepository
    alerts: AlertRepository
    retention: RetentionRepository


class NotifyUnitOfWorkFactory(Protocol):
    def __call__(self) -> NotifyUnitOfWork: ...
