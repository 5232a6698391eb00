"""The notifier's domain: claim due outbox rows and turn each into something to send.

Runs in the bot process: it alone holds `notify_key`, so it alone can open a notify link. For
a full-level link the link also holds the reporter seed, which opens the reporter-visible note.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cases.errors import DecryptionError
from cases.lifecycle import ReporterStatus, Status, reporter_status
from cases.ports import UnitOfWorkFactory
from cases.runtime import Clock, utcnow
from storage.crypto import keys
from storage.crypto.notify import NotifyTarget, open_link
from storage.crypto.receipts import reporter_keypair


@dataclass(frozen=True)
class Notification:
    """One message to deliver: where, in which language, what status, and the note if allowed."""

    row_id: str
    case_id: str
    reference: str
    target: NotifyTarget
    status: ReporterStatus
    note: str | None
    attempts: int


class NotificationService:
    """Claim, resolve and settle outbox rows."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        notify_key: bytes,
        *,
        lease: dt.timedelta = dt.timedelta(minutes=2),
        clock: Clock = utcnow,
    ) -> None:
        self._uow = uow
        self._notify_key = notify_key
        self._lease = lease
        self._clock = clock

    async def claim(self, limit: int = 20) -> list[Notification]:
        """Due rows with a link to deliver; rows nobody can be told about are settled here."""
        out: list[Notification] = []
        async with self._uow() as uow:
            now = self._clock()
            for row in await uow.outbox.claim_due(now, limit, self._lease):
                link = await uow.outbox.get_link(row.case_id)
                case_events = {e.id: e for e in await uow.cases.events(row.case_id)}
                event = case_events.get(row.event_id)
                if link is None or event is None:
                    await uow.outbox.finish(row.id, "no_link", now)
                    continue
                try:
                    target = open_link(self._notify_key, row.case_id, link.sealed)
                except DecryptionError:
                    # A link this key cannot open (rotated key, tampering) is useless; drop it.
                    await uow.outbox.delete_link(row.case_id)
                    await uow.outbox.finish(row.id, "no_link", now)
                    continue
                note = None
                if target.reporter_seed is not None and event.note_item_id:
                    item = await uow.cases.item(event.note_item_id)
                    if item is not None and item.sealed_for_reporter is not None:
                        note = keys.open_item(
                            reporter_keypair(target.reporter_seed).private,
                            row.case_id,
                            item.kind,
                            item.id,
                            item.sealed_for_reporter,
                        )
                case = await uow.cases.by_id(row.case_id)
                reference = case.reference if case else ""
                out.append(
                    Notification(
                        row.id,
                        row.case_id,
                        reference,
                        target,
                        reporter_status(Status(event.status)),
                        note,
                        row.attempts,
                    )
                )
            await uow.commit()
        return out

    async def delivered(self, row_id: str) -> None:
        async with self._uow() as uow:
            await uow.outbox.finish(row_id, "sent", self._clock())
            await uow.commit()

    async def unreachable(self, row_id: str, case_id: str) -> None:
        """The chat is gone (blocked or deleted): drop the link, tell officers, settle the row."""
        async with self._uow() as uow:
            await uow.outbox.delete_link(case_id)
            await uow.cases.update(case_id, reporter_unreachable=True)
            await uow.outbox.finish(row_id, "unreachable", self._clock())
            await uow.commit()

    async def retry_later(self, row_id: str, delay: dt.timedelta, error: str) -> None:
        async with self._uow() as uow:
            await uow.outbox.retry_later(row_id, self._clock() + delay, error)
            await uow.commit()

    async def give_up(self, row_id: str) -> None:
        async with self._uow() as uow:
            await uow.outbox.finish(row_id, "dead", self._clock())
            await uow.commit()
