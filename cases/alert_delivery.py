"""Claiming and settling officer alerts for the notifier (the second channel next to reporters).

The same guarantee as reporter notifications (`cases.notifications`): a claimed row is leased,
settled in its own transaction right after Telegram answers, so a crash re-sends at most the
row in flight. Alerts are never split across a retry boundary: a digest too long for one
message is sent again from its first part if a later part fails (alerts hold no parts count).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from cases.ports_notify import NotifyUnitOfWorkFactory
from cases.runtime import Clock, utcnow


@dataclass(frozen=True)
class OfficerAlert:
    """A claimed alert with the chat to send it to; `data` is the metadata payload."""

    row_id: str
    kind: str
    chat_id: int
    language: str
    data: dict[str, Any]


class AlertDeliveryService:
    """Claim, and settle by Telegram's answer, rows of `alert_outbox`."""

    def __init__(
        self,
        uow: NotifyUnitOfWorkFactory,
        *,
        lease: dt.timedelta = dt.timedelta(minutes=5),
        clock: Clock = utcnow,
    ) -> None:
        self._uow = uow
        self.lease = lease
        self._clock = clock

    async def claim(self, limit: int = 20) -> list[OfficerAlert]:
        """Due alerts, leased; alerts for an officer who unlinked meanwhile are settled."""
        async with self._uow() as uow:
            now = self._clock()
            rows = await uow.alerts.claim(now, limit, self.lease)
            unlinked = [r.id for r in rows if r.chat_id is None]
            for row_id in unlinked:
                await uow.alerts.finish(row_id, "no_chat", now)
            await uow.commit()
        return [
            OfficerAlert(r.id, r.kind, r.chat_id, r.language, json.loads(r.payload))
            for r in rows
            if r.chat_id is not None
        ]

    async def _finish(self, row_id: str, outcome: str) -> None:
        async with self._uow() as uow:
            await uow.alerts.finish(row_id, outcome, self._clock())
            await uow.commit()

    async def delivered(self, row_id: str) -> None:
        await self._finish(row_id, "sent")

    async def give_up(self, row_id: str) -> None:
        """Dead-letter: counted for administrators, never sent."""
        await self._finish(row_id, "dead")

    async def unreachable(self, row_id: str, chat_id: int) -> None:
        """The officer blocked the bot or the chat is gone: unlink it, settle the row."""
        async with self._uow() as uow:
            await uow.alerts.unlink_chat(chat_id)
            await uow.alerts.finish(row_id, "unreachable", self._clock())
            await uow.commit()

    async def migrated(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: alerts for it go to the new chat id from now on."""
        async with self._uow() as uow:
            await uow.alerts.move_chat(old_chat_id, new_chat_id)
            await uow.commit()

    async def failed(self, row_id: str, error: str) -> int:
        async with self._uow() as uow:
            attempts = await uow.alerts.fail(row_id, error)
            await uow.commit()
        return attempts

    async def release(self, row_ids: list[str], at: dt.datetime) -> None:
        async with self._uow() as uow:
            await uow.alerts.release(row_ids, at)
            await uow.commit()
