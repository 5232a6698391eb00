"""Last resort: input no conversation step expects gets a clear answer, never silence."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.common import menu_keyboard


async def unexpected_message(message: Message, state: FSMContext) -> None:
    # Text with no conversation in progress is most often a draft lost to expiry or a
    # restart: say so plainly and offer to start again, never drop it silently.
    if message.text and await state.get_state() is None:
        await message.answer(_("draft.expired"), reply_markup=menu_keyboard())
        return
    await message.answer(_("fallback.message"), reply_markup=menu_keyboard())


async def stale_button(query: CallbackQuery, state: FSMContext) -> None:
    # A button from an earlier step (or pressed twice): say so, change nothing.
    if await state.get_state() is None and isinstance(query.message, Message):
        await query.answer()
        await query.message.answer(_("draft.expired"), reply_markup=menu_keyboard())
        return
    await query.answer(_("fallback.stale_button"), show_alert=False)


def build() -> Router:
    """Catch-all handlers; include last."""
    router = Router(name="fallback")
    router.message.register(unexpected_message, F.chat.type == ChatType.PRIVATE)
    router.callback_query.register(stale_button)
    return router
