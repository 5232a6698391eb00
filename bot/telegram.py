"""Building the aiogram Bot and Dispatcher for the reporter conversation."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.types import TelegramObject, Update

from bot.updates import MemoryUpdateLedger, UpdateLedger
from cases.alert_links import AlertLinkService
from cases.followup import REPLIES_PER_CASE_PER_DAY, ReporterFollowUp
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


# Set by the webhook server on updates whose id it already claimed in the ledger.
CLAIMED = "update_claimed"


class DeduplicateUpdates(BaseMiddleware):
    """Drops an update whose id was claimed before (webhook retries, redelivery after a crash)."""

    def __init__(self, ledger: UpdateLedger) -> None:
        self._ledger = ledger

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if (
            isinstance(event, Update)
            and data.get(CLAIMED) is not True
            and not await self._ledger.claim(event.update_id)
        ):
            log.info("duplicate update dropped")
            return None
        return await handler(event, data)


def build_dispatcher(
    intake: IntakeService,
    i18n: CatalogI18n,
    storage: BaseStorage | None = None,
    *,
    departments: list[str] | None = None,
    limiter: RateLimiter | None = None,
    replies_per_case_per_day: int = REPLIES_PER_CASE_PER_DAY,
    attachment_limits: AttachmentLimits | None = None,
    cleaning: CleaningPool | None = None,
    draft_ttl: dt.timedelta = dt.timedelta(hours=2),
    alert_links: AlertLinkService | None = None,
    ledger: UpdateLedger | None = None,
    isolation: BaseEventIsolation | None = None,
) -> Dispatcher:
    """The reporter dispatcher: one update at a time per chat, duplicates dropped.

    `ledger` and `isolation` default to this process's memory; with several bot processes
    they must be shared (Redis), or a chat's updates could run twice or side by side.
    """
    dispatcher = Dispatcher(
        storage=storage or MemoryStorage(), events_isolation=isolation or SimpleEventIsolation()
    )
    dispatcher["intake"] = intake
    dispatcher["departments"] = list(departments or [])
    dispatcher["followup"] = ReporterFollowUp(intake, replies_per_case_per_day)
    dispatcher["limiter"] = limiter or RateLimiter(Limits())
    dispatcher["attachment_limits"] = attachment_limits or AttachmentLimits()
    dispatcher["cleaning"] = cleaning or CleaningPool()
    dispatcher["draft_ttl"] = draft_ttl  # told to the reporter; the storage enforces it
    dispatcher["alert_links"] = alert_links
    dispatcher.update.outer_middleware(DeduplicateUpdates(ledger or MemoryUpdateLedger()))
    ChatLocaleMiddleware(i18n).setup(dispatcher)
    dispatcher.include_router(build_router())
    return dispatcher
