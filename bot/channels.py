"""What the notifier worker sends: jobs, and the channels that claim and settle them.

A channel turns claimed rows into `Job`s (chat id plus the text already split into parts) and
settles each job by what Telegram answered. The reporter channel sends outbox rows through
notify links; the officer-alert channel lives in `bot.alert_channel`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from dataclasses import dataclass, field
from typing import Protocol

from aiogram.utils.i18n import I18n

from cases.notifications import Notification, NotificationService
from handlers.common import split_text

_sequence = itertools.count()


@dataclass(eq=False)
class Job:
    """One message (maybe several parts) to one chat, under a lease of its row."""

    row_id: str
    chat_id: int
    parts: list[str]
    channel: Channel
    lease_until: float  # time.monotonic() after which the row may belong to another worker
    sent: int = 0  # parts Telegram already accepted
    label: str = ""  # a case reference for log lines; never a chat or user id
    case_id: str = ""
    seq: int = field(default_factory=lambda: next(_sequence))


class Channel(Protocol):
    """A source of jobs and the way to settle them."""

    name: str

    async def claim(self, limit: int) -> list[Job]: ...
    async def part_sent(self, job: Job) -> None: ...
    async def delivered(self, job: Job) -> None: ...
    async def unreachable(self, job: Job) -> None: ...
    async def failed(self, job: Job, error: str) -> int: ...
    async def release(self, jobs: list[Job], at: dt.datetime) -> None: ...
    async def dead(self, job: Job) -> None: ...
    async def migrated(self, job: Job, new_chat_id: int) -> bool: ...


def render(notification: Notification, i18n: I18n) -> str:
    """The reporter's message, as plain text (sent without parse mode, so any note is safe).

    Only a full-level link yields a note: a status-only message carries the new status label
    (with the fixed reason for "not accepted"), the case reference and the hint to check
    details with the receipt — nothing an officer wrote.
    """
    locale = notification.target.language

    def t(key: str) -> str:
        return i18n.gettext(key, locale=locale)

    text = t("notify.update").format(
        reference=notification.reference, status=t(f"reporter_status.{notification.status}")
    )
    if notification.reason:
        key = f"not_accepted_reason.{notification.reason}"
        label = t(key)
        text += "\n" + t("notify.reason").format(
            reason=notification.reason if label == key else label
        )
    if notification.note:
        text += "\n\n" + t("notify.note_header") + "\n" + notification.note
    return text + "\n\n" + t("notify.footer")


class ReporterChannel:
    """Reporter notifications from the outbox, through notify links."""

    name = "reporter"

    def __init__(self, service: NotificationService, i18n: I18n) -> None:
        self._service = service
        self._i18n = i18n

    async def claim(self, limit: int) -> list[Job]:
        lease_until = time.monotonic() + self._service.lease.total_seconds()
        return [
            Job(
                row_id=n.row_id,
                chat_id=n.target.chat_id,
                parts=split_text(render(n, self._i18n)),
                channel=self,
                lease_until=lease_until,
                sent=n.parts_sent,
                label=n.reference,
                case_id=n.case_id,
            )
            for n in await self._service.claim(limit)
        ]

    async def part_sent(self, job: Job) -> None:
        await self._service.part_sent(job.row_id, job.sent)

    async def delivered(self, job: Job) -> None:
        await self._service.delivered(job.row_id)

    async def unreachable(self, job: Job) -> None:
        await self._service.unreachable(job.row_id, job.case_id)

    async def failed(self, job: Job, error: str) -> int:
        return await self._service.failed(job.row_id, error)

    async def release(self, jobs: list[Job], at: dt.datetime) -> None:
        await self._service.release([j.row_id for j in jobs], at)

    async def dead(self, job: Job) -> None:
        await self._service.give_up(job.row_id)

    async def migrated(self, job: Job, new_chat_id: int) -> bool:
        # Reporters write from private chats, which never migrate; treat it as a gone chat.
        await self._service.unreachable(job.row_id, job.case_id)
        return False
