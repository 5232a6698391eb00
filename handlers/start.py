"""/start, /help, /cancel, the menu, groups, and whatever arrives where nothing expects it."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from handlers import drafts
from handlers.common import (
    Action,
    Nav,
    PickLanguage,
    button,
    cancel_row,
    keyboard,
    menu_keyboard,
)
from handlers.states import DRAFTING, discard, load, save
from locales import SUPPORTED


async def not_private(message: Message) -> None:
    """In groups and channels the bot reads nothing and stores nothing."""
    if message.text and message.text.startswith("/"):
        await message.answer(_("chat.private_only"))


async def edited(message: Message, state: FSMContext) -> None:
    """An edit is never applied: say so, and what to do instead."""
    if message.chat.type != ChatType.PRIVATE:
        return
    if await state.get_state() in DRAFTING:
        await message.answer(_("edit.drafting"))
        return
    # Nothing is being written: the edit was of a report already sent (or of nothing at all).
    status = keyboard([button(_("menu.check_status"), Nav(action=Action.STATUS))])
    await message.answer(_("edit.not_applied"), reply_markup=status)


async def start(message: Message, state: FSMContext, bot: Bot) -> None:
    await discard(state, bot, message.chat.id)
    await message.answer(_("start.welcome"), reply_markup=menu_keyboard())


async def help_command(message: Message) -> None:
    await message.answer(_("help.text"), reply_markup=menu_keyboard())


async def help_button(query: CallbackQuery) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(_("help.text"), reply_markup=menu_keyboard())


async def cancel_command(message: Message, state: FSMContext, bot: Bot) -> None:
    await discard(state, bot, message.chat.id)
    await message.answer(_("cancel.done"), reply_markup=menu_keyboard())


async def cancel_button(query: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    removed = await discard(state, bot, query.message.chat.id)
    if query.message.message_id in removed:  # Cancel on the receipt, which is gone now
        await query.message.answer(_("cancel.done"), reply_markup=menu_keyboard())
    else:
        await query.message.edit_text(_("cancel.done"), reply_markup=menu_keyboard())


async def language_menu(query: CallbackQuery) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        rows = [[button(_(f"language.{code}"), PickLanguage(code=code))] for code in SUPPORTED]
        await query.message.edit_text(
            _("language.choose"), reply_markup=keyboard(*rows, cancel_row())
        )


async def pick_language(
    query: CallbackQuery, callback_data: PickLanguage, state: FSMContext, i18n: I18n
) -> None:
    """Remember the language in this conversation only: there is no per-user record.

    A draft in progress is kept: choosing a language is no reason to lose it.
    """
    if callback_data.code not in SUPPORTED:
        await query.answer()
        return
    conversation = await load(state)
    conversation.lang = callback_data.code
    await save(state, conversation)
    # This update was already rendered in the old language; switch for the reply itself.
    with i18n.use_locale(callback_data.code):
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(_("language.chosen"), reply_markup=menu_keyboard())


async def privacy(query: CallbackQuery) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("privacy.text"), reply_markup=menu_keyboard())


async def privacy_command(message: Message) -> None:
    await message.answer(_("privacy.text"), reply_markup=menu_keyboard())


def build_outside() -> Router:
    """Groups, channels and edits: handled before any conversation sees them."""
    router = Router(name="outside")
    router.message.register(not_private, F.chat.type != ChatType.PRIVATE)
    router.edited_message.register(edited)
    return router


def _basics() -> Router:
    router = Router(name="basics")
    router.message.register(start, CommandStart())
    router.message.register(help_command, Command("help"))
    router.callback_query.register(help_button, Nav.filter(F.action == Action.HELP))
    router.message.register(cancel_command, Command("cancel"))
    router.callback_query.register(cancel_button, Nav.filter(F.action == Action.CANCEL))
    router.message.register(privacy_command, Command("privacy"))
    router.callback_query.register(privacy, Nav.filter(F.action == Action.PRIVACY))
    router.callback_query.register(language_menu, Nav.filter(F.action == Action.LANGUAGE))
    router.callback_query.register(pick_language, PickLanguage.filter())
    return router


def build(*conversations: Router) -> Router:
    """Private chats only: the draft guard, start, help, cancel, then the given conversations."""
    router = Router(name="private")
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
    router.include_routers(drafts.build(), _basics(), *conversations)
    return router
