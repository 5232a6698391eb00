"""`/link CODE`: an officer links this private chat for alerts with a code from the admin API.

Reporters never need this command; it stores nothing unless the code is a valid one, and then
only for the officer the code belongs to. The chat id is never logged.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from cases.alert_links import AlertLinkService, LinkResult


async def link(
    message: Message,
    command: CommandObject,
    i18n: I18n,
    alert_links: AlertLinkService | None = None,
) -> None:
    code = (command.args or "").strip()
    if alert_links is None or not code:
        await message.answer(_("link.usage"))
        return
    result = await alert_links.link(code, message.chat.id, i18n.current_locale)
    if result is LinkResult.LINKED:
        await message.answer(_("link.done"))
    elif result is LinkResult.THROTTLED:
        await message.answer(_("link.throttled"))
    else:
        await message.answer(_("link.invalid"))


def build() -> Router:
    """Private chats only (the caller includes it under the private-chat router)."""
    router = Router(name="officer_link")
    router.message.register(link, Command("link"))
    return router
