"""Building the aiogram Bot and Dispatcher for the reporter conversation."""

from __future__ import annotations

import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.types import TelegramObject, Update

from cases.alert_links import AlertLinkService
from cases.followup import ReporterFollowUp
from cases.intake import IntakeService
from cases.ratelimit import Limits, RateLimiter
from handlers import build_router
from handlers.i18n import CatalogI18n, ChatLocaleMiddleware
from handlers.report_files import AttachmentLimits, CleaningPool

log = logging.getLogger(__name__)


def build_bot(token: str, api_base: str) -> Bot:
    """A Bot that talks to `api_base` (Telegram, a self-hosted Bot API server, or the fake)."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


class DeduplicateUpdates(BaseMiddleware):
    """Drops an update whose id was seen recently (webhook retries, redelivery after a crash)."""

    def __init__(self, remember: int = 10_000) -> None:
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._remember = remember

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Update):
            if event.update_id in self._seen:
                log.info("duplicate update dropped")
                return None
            self._seen[event.update_id] = None
            while len(self._seen) > self._remember:
                self._seen.popitem(last=False)
        return await handler(event, data)


def build_dispatcher(
    intake: IntakeService,
    i18n: CatalogI18n,
    storage: BaseStorage | None = None,
    *,
    departments: list[str] | None = None,
    limiter: RateLimiter | None = None,
    attachment_limits: AttachmentLimits | None = None,
    cleaning: CleaningPool | None = None,
    draft_ttl: dt.timedelta = dt.timedelta(hours=2),
    alert_links: AlertLinkService | None = None,
) -> Dispatcher:
    """The reporter dispatcher: one update at a time per chat, duplicates dropped."""
    dispatcher = Dispatcher(
        storage=storage or MemoryStorage(), events_isolation=SimpleEventIsolation()
    )
    dispatcher["intake"] = intake
    dispatcher["departments"] = list(departments or [])
    dispatcher["followup"] = ReporterFollowUp(intake)
    dispatcher["limiter"] = limiter or RateLimiter(Limits())
    dispatcher["attachment_limits"] = attachment_limits or AttachmentLimits()
    dispatcher["cleaning"] = cleaning or CleaningPool()
    dispatcher["draft_ttl"] = draft_ttl  # told to the reporter; the storage enforces it
    dispatcher["alert_links"] = alert_links
    dispatcher.update.outer_middleware(DeduplicateUpdates())
    ChatLocaleMiddleware(i18n).setup(dispatcher)
    dispatcher.include_router(build_router())
    return dispatcher
