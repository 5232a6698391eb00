"""The notifier's domain: claim due outbox rows and turn each into something to send.

Runs in the bot process: it alone holds `notify_key`, so it alone can open a notify link. For
a full-level link the link also holds the reporter seed, which opens the reporter-visible note;
a status-only link holds no seed, so no officer text can reach such a chat.

Delivery guarantee: a claimed row is leased (its `next_attempt_at` moves past the lease) and is
sent only while the lease holds; it is marked sent in its own transaction right after Telegram
accepts it, before the worker starts the next send. A crash between Telegram's answer and that
commit re-sends at most that one row (per worker) once the lease runs out; every other row is
sent exactly once. Split messages record each accepted part, so a retry resumes at the next part.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cases.errors import DecryptionError
from cases.lifecycle import ReporterStatus, Status, reporter_status
from cases.ports_notify import NotifyUnitOfWorkFactory
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
    parts_sent: int = 0
    # For "not accepted": the fixed reason triage gave (a code, never free text).
    reason: str | None = None


class NotificationService:
    """Claim, resolve and settle reporter outbox rows."""

    def __init__(
        self,
        uow: NotifyUnitOfWorkFactory,
        notify_key: bytes,
        *,
        lease: dt.timedelta = dt.timedelta(minutes=5),
        clock: Clock = utcnow,
    ) -> None:
        self._uow = uow
        self._notify_key = notify_key
        self.lease = lease
        self._clock = clock

    async def claim(self, limit: int = 20) -> list[Notification]:
        """Due rows with a link to deliver, leased; rows nobody can be told about are settled.

        The lease is taken and committed first, in a short transaction, and the rows resolved
        afterwards with reads only: a long claim must not hold SQLite's write lock while the
        sender waits to mark a row sent.
        """
        async with self._uow() as uow:
            now = self._clock()
            rows = await uow.delivery.claim(now, limit, self.lease)
            await uow.commit()
        if not rows:
            return []
        out: list[Notification] = []
        nobody: list[str] = []
        bad_links: list[str] = []
        async with self._uow() as uow:
            for row in rows:
                link = await uow.outbox.get_link(row.case_id)
                case_events = {e.id: e for e in await uow.cases.events(row.case_id)}
                event = case_events.get(row.event_id)
                if link is None or event is None:
                    nobody.append(row.id)
                    continue
                try:
                    target = open_link(self._notify_key, row.case_id, link.sealed)
                except DecryptionError:
                    # A link this key cannot open (rotated key, tampering) is useless; drop it.
                    bad_links.append(row.case_id)
                    nobody.append(row.id)
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
                status = Status(event.status)
                # The reason is a fixed code on the case row, shown at every notify level
                # like the status itself; the officer's own words stay full-level only.
                reason = (
                    case.not_accepted_reason if case and status is Status.NOT_ACCEPTED else None
                )
                out.append(
                    Notification(
                        row.id,
                        row.case_id,
                        reference,
                        target,
                        reporter_status(status),
                        note,
                        row.attempts,
                        row.parts_sent,
                        reason,
                    )
                )
        if nobody:
            async with self._uow() as uow:
                for case_id in bad_links:
                    await uow.outbox.delete_link(case_id)
                for row_id in nobody:
                    await uow.outbox.finish(row_id, "no_link", now)
                await uow.commit()
        return out

    async def part_sent(self, row_id: str, parts: int) -> None:
        """Telegram accepted `parts` parts of a split message; a retry starts after them."""
        async with self._uow() as uow:
            await uow.delivery.part_sent(row_id, parts)
            await uow.commit()

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

    async def failed(self, row_id: str, error: str) -> int:
        """Count a failed attempt (5xx, network); returns the attempts so far. Lease kept."""
        async with self._uow() as uow:
            attempts = await uow.delivery.fail(row_id, error)
            await uow.commit()
        return attempts

    async def release(self, row_ids: list[str], at: dt.datetime) -> None:
        """Hand leased rows back, due again at `at` (for any worker)."""
        async with self._uow() as uow:
            await uow.delivery.release(row_ids, at)
            await uow.commit()

    async def retry_later(self, row_id: str, delay: dt.timedelta, error: str) -> None:
        """Count a failure and make the row due again after `delay`."""
        await self.failed(row_id, error)
        await self.release([row_id], self._clock() + delay)

    async def give_up(self, row_id: str) -> None:
        """Dead-letter the row: it is counted for administrators and never sent."""
        async with self._uow() as uow:
            await uow.outbox.finish(row_id, "dead", self._clock())
            await uow.commit()
