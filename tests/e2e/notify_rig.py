"""A notifier against the fake Bot API over HTTP, on a real database, with cases to notify."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiogram import Bot
from sqlalchemy import select

from bot.channels import ReporterChannel
from bot.devtools.fake_bot_api import FakeBotAPI, RecordedCall
from bot.notifier import Notifier, NotifierLimits
from bot.telegram import build_bot
from cases.intake import NotifyLevel, Submitted
from cases.lifecycle import Status
from cases.notifications import NotificationService
from cases.ports import EventRecord
from cases.references import new_id
from cases.runtime import utcnow
from handlers.i18n import CatalogI18n
from storage.models import OutboxRow
from storage.repos_notify import SqlNotifyUnitOfWork
from tests.factories import Site, build_site

TOKEN = "123456:TEST-token"
FAST = NotifierLimits(backoff_base=0.1, poll_seconds=0.05)


@dataclass
class Rig:
    site: Site
    fake: FakeBotAPI
    bot: Bot
    i18n: CatalogI18n = field(default_factory=CatalogI18n)

    def uow(self) -> SqlNotifyUnitOfWork:
        factory = self.site.uow
        assert callable(factory)
        made = factory()
        assert isinstance(made, SqlNotifyUnitOfWork)
        return made

    def notifier(self, limits: NotifierLimits = FAST, bot: Bot | None = None) -> Notifier:
        service = NotificationService(self.uow, self.site.notify_key)
        return Notifier(bot or self.bot, [ReporterChannel(service, self.i18n)], limits)

    async def reporter_case(
        self, chat_id: int, level: str = NotifyLevel.FULL, language: str = "en"
    ) -> Submitted:
        """A filed case whose reporter opted in from `chat_id` (a chat that wrote to the bot)."""
        user = self.fake.user(chat_id, "Reporter")
        await user.send_text("/start")
        _, submitted = await self.site.file_report()
        await self.site.intake.set_notifications(
            submitted.case_id,
            level,
            chat_id=chat_id,
            language=language,
            reporter_seed=submitted.reporter_seed,
        )
        return submitted

    async def queue_updates(self, case_id: str, count: int) -> list[str]:
        """`count` status events with outbox rows, inserted straight through the repositories."""
        rows = []
        async with self.uow() as uow:
            for _ in range(count):
                position = await uow.cases.next_position(case_id)
                event = EventRecord(
                    new_id(), case_id, position, Status.RECEIVED, utcnow().date(), None, None
                )
                await uow.cases.add_event(event)
                rows.append(await uow.outbox.add(case_id, event.id, utcnow()))
            await uow.commit()
        return rows

    async def outcomes(self) -> dict[str, str | None]:
        async with self.site.engine.connect() as conn:
            result = await conn.execute(select(OutboxRow.id, OutboxRow.outcome))
            return {row_id: outcome for row_id, outcome in result}

    async def settle(self, *notifiers: Notifier, timeout: float = 60.0) -> dict[str, str | None]:  # noqa: ASYNC109
        """Run the notifiers until every outbox row has an outcome."""
        stop = asyncio.Event()
        tasks = [asyncio.create_task(n.run(stop)) for n in notifiers]
        deadline = asyncio.get_running_loop().time() + timeout
        try:
            while True:
                outcomes = await self.outcomes()
                if all(o is not None for o in outcomes.values()):
                    return outcomes
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"rows still pending: {outcomes}")
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.gather(*tasks)

    def sends(self, *, ok: bool | None = True) -> list[RecordedCall]:
        return [
            r
            for r in self.fake.requests
            if r.method.lower() == "sendmessage" and (ok is None or r.ok == ok)
        ]


@contextlib.asynccontextmanager
async def notify_rig(database_url: str, *, enforce_limits: bool = False) -> AsyncIterator[Rig]:
    site = await build_site(database_url)
    async with FakeBotAPI(TOKEN, enforce_limits=enforce_limits) as fake:
        bot = build_bot(TOKEN, fake.base_url)
        try:
            yield Rig(site, fake, bot)
        finally:
            await bot.session.close()
            await site.engine.dispose()
    assert fake.rejections == [], f"Telegram would have refused: {fake.rejections}"


def late(seconds: float) -> dt.datetime:
    return utcnow() + dt.timedelta(seconds=seconds)
