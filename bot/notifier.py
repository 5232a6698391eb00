"""The notifier worker: drains the outbox into reporters' chats, within Telegram's limits.

Delivery is at-least-once for the row in flight: a crash after Telegram accepted a message and
before the row is marked sent re-sends that one row when its lease runs out; every other row is
sent exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.utils.i18n import I18n

from cases.notifications import Notification, NotificationService
from handlers.common import split_text

log = logging.getLogger(__name__)


def render(notification: Notification, i18n: I18n) -> str:
    """The reporter's message, as plain text (sent without parse mode, so any note is safe)."""
    locale = notification.target.language

    def t(key: str) -> str:
        return i18n.gettext(key, locale=locale)

    text = t("notify.update").format(
        reference=notification.reference, status=t(f"reporter_status.{notification.status}")
    )
    if notification.note:
        text += "\n\n" + t("notify.note_header") + "\n" + notification.note
    return text + "\n\n" + t("notify.footer")


class Pacer:
    """At most `per_second` sends overall and one per `per_chat_interval` seconds per chat."""

    def __init__(self, per_second: float = 30.0, per_chat_interval: float = 1.0) -> None:
        self._gap = 1.0 / per_second
        self._chat_gap = per_chat_interval
        self._next_global = 0.0
        self._next_chat: dict[int, float] = {}

    async def wait(self, chat_id: int) -> None:
        now = time.monotonic()
        at = max(now, self._next_global, self._next_chat.get(chat_id, 0.0))
        self._next_global = at + self._gap
        self._next_chat[chat_id] = at + self._chat_gap
        if at > now:
            await asyncio.sleep(at - now)


class Notifier:
    """Claims due outbox rows and sends them; settles each row by what Telegram answered."""

    def __init__(
        self,
        service: NotificationService,
        bot: Bot,
        i18n: I18n,
        *,
        poll_seconds: float = 1.0,
        max_attempts: int = 8,
        pacer: Pacer | None = None,
    ) -> None:
        self._service = service
        self._bot = bot
        self._i18n = i18n
        self._poll = poll_seconds
        self._max_attempts = max_attempts
        self._pacer = pacer or Pacer()

    async def run_once(self) -> int:
        """Send what is due now; returns how many rows were handled."""
        batch = await self._service.claim()
        for notification in batch:
            await self._deliver(notification)
        return len(batch)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set."""
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except Exception as exc:  # keep the worker alive; the rows stay leased and retry
                log.error("notifier pass failed: %s", type(exc).__name__)
                handled = 0
            if not handled:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self._poll)

    async def _deliver(self, notification: Notification) -> None:
        chat_id = notification.target.chat_id
        try:
            for part in split_text(render(notification, self._i18n)):
                await self._pacer.wait(chat_id)
                await self._bot.send_message(chat_id, part, parse_mode=None)
        except TelegramRetryAfter as exc:
            await self._service.retry_later(
                notification.row_id, dt.timedelta(seconds=exc.retry_after), "429"
            )
        except TelegramForbiddenError:
            # The reporter blocked the bot or deleted the chat: the link is useless now.
            await self._service.unreachable(notification.row_id, notification.case_id)
        except TelegramBadRequest as exc:
            if "chat not found" in exc.message.lower():
                await self._service.unreachable(notification.row_id, notification.case_id)
            else:
                log.error("notification refused by Telegram (case %s)", notification.reference)
                await self._service.give_up(notification.row_id)
        except (TelegramServerError, TelegramNetworkError) as exc:
            await self._backoff(notification, type(exc).__name__)
        else:
            await self._service.delivered(notification.row_id)

    async def _backoff(self, notification: Notification, error: str) -> None:
        if notification.attempts >= self._max_attempts:
            log.error("notification dead-lettered (case %s)", notification.reference)
            await self._service.give_up(notification.row_id)
            return
        delay = min(2**notification.attempts, 300)
        await self._service.retry_later(notification.row_id, dt.timedelta(seconds=delay), error)
