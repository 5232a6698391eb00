"""One error handler for every conversation: a clear reply, the draft kept, nothing leaked."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent, Message
from aiogram.utils.i18n import gettext as _

from cases.errors import SpeakUpError

log = logging.getLogger(__name__)


async def not_modified(event: ErrorEvent) -> None:
    """An edit to the content a message already has: a double tap, nothing went wrong.

    Telegram refuses such an edit ("message is not modified"). The screen already shows what
    was asked for; handlers answer a button press before editing, so nothing is left to do.
    """
    log.debug("edit to identical content ignored")


async def on_error(event: ErrorEvent) -> None:
    # The exception type only: never the update, the message or the user.
    if isinstance(event.exception, SpeakUpError):
        log.warning("handled domain error: %s", type(event.exception).__name__)
    else:
        log.error("unexpected error in a handler: %s", type(event.exception).__name__)
    update = event.update
    # Handlers answer button presses before slow work, and Telegram refuses a second answer,
    # so the reporter is told in the chat instead.
    query = update.callback_query
    if query is not None and isinstance(query.message, Message):
        await query.message.answer(_("error.generic"))
    elif update.message is not None:
        await update.message.answer(_("error.generic"))


def build() -> Router:
    """The error router; include first."""
    router = Router(name="errors")
    router.error.register(
        not_modified,
        ExceptionTypeFilter(TelegramBadRequest),
        F.exception.message.contains("message is not modified"),
    )
    router.error.register(on_error, ExceptionTypeFilter(Exception))
    return router
