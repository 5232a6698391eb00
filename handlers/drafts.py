"""Starting over never wipes a draft silently, and a filed report is never called unsaved.

/start, /status, "New report" and "Check status" (also on an old menu message), and Back from
the first step all start over. With something written or attached, the reporter is asked
first: keep writing, or discard the draft and continue. Once the case is committed (the
notification choice is still open), these and /cancel say that the report is filed — and that
notifications stay off — before they go on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.common import Action, Discard, Nav, button, keyboard, menu_keyboard
from handlers.report import open_report
from handlers.report_steps import step_rows
from handlers.states import DRAFTING, ReportFlow, discard, load, reset
from handlers.status import ask_receipt

Handler = Callable[[Message | CallbackQuery, FSMContext, Bot], Awaitable[None]]


async def writing_in_progress(event: Message | CallbackQuery, state: FSMContext) -> bool:
    """A report not yet committed, with something written or attached that would be lost."""
    return await state.get_state() in DRAFTING and (await load(state)).has_writing


async def filed(event: Message | CallbackQuery, state: FSMContext) -> bool:
    """The case is committed and the notification choice is still open."""
    return await state.get_state() == ReportFlow.notify.state and bool((await load(state)).case_id)


async def _chat_message(event: Message | CallbackQuery) -> Message | None:
    """Where to answer: the message itself, or the pressed button's message (answered first)."""
    if isinstance(event, CallbackQuery):
        await event.answer()
        return event.message if isinstance(event.message, Message) else None
    return event


async def _go_on(message: Message, state: FSMContext, bot: Bot, then: Action) -> None:
    """Do what the reporter asked for once nothing is left in the way."""
    if then == Action.NEW:
        await open_report(message, state, bot)
    elif then == Action.STATUS:
        await ask_receipt(message, state)
    elif then == Action.START:
        await message.answer(_("start.welcome"), reply_markup=menu_keyboard())
    else:
        await message.answer(_("menu.title"), reply_markup=menu_keyboard())


async def _close_filed(state: FSMContext) -> str:
    """End the filed report's conversation (notifications stay off); returns what to say."""
    reference = (await load(state)).reference or ""
    await reset(state)
    return _("report.filed_note").format(reference=reference)


def ask_first(then: Action) -> Handler:
    """Ask before `then` would discard what the reporter has written."""

    async def ask(event: Message | CallbackQuery, state: FSMContext, bot: Bot) -> None:
        message = await _chat_message(event)
        if message is None:
            return
        conversation = await load(state)
        await message.answer(
            _("draft.in_progress").format(
                count=len(conversation.text), files=len(conversation.attachments)
            ),
            reply_markup=keyboard(
                [button(_("draft.keep"), Nav(action=Action.KEEP))],
                [button(_("draft.discard"), Discard(then=then))],
            ),
        )

    return ask


def after_filing(then: Action) -> Handler:
    """Say the report is filed, then do `then`."""

    async def go_on(event: Message | CallbackQuery, state: FSMContext, bot: Bot) -> None:
        message = await _chat_message(event)
        if message is None:
            return
        await message.answer(await _close_filed(state))
        await _go_on(message, state, bot, then)

    return go_on


async def keep(query: CallbackQuery, state: FSMContext, departments: list[str]) -> None:
    """Keep writing: the question becomes the current step again, nothing else changes."""
    await query.answer()
    if not isinstance(query.message, Message):
        return
    step = await state.get_state()
    rows = step_rows(step, await load(state), departments) or []
    text = _("report.continue_writing") if step == ReportFlow.writing.state else _("draft.kept")
    await query.message.edit_text(text, reply_markup=keyboard(*rows))


async def discard_and_go_on(
    query: CallbackQuery, callback_data: Discard, state: FSMContext, bot: Bot
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    message = query.message
    if await filed(query, state):
        # Asked before the commit, answered after it: the case exists and is not discarded.
        await message.edit_text(await _close_filed(state))
    else:
        await discard(state, bot, message.chat.id)
        await message.edit_text(_("draft.discarded"))
    await _go_on(message, state, bot, callback_data.then)


def build() -> Router:
    """Included before every conversation, so these run first."""
    router = Router(name="drafts")
    msg, cb = router.message, router.callback_query
    for check, handle in ((filed, after_filing), (writing_in_progress, ask_first)):
        msg.register(handle(Action.START), CommandStart(), check)
        msg.register(handle(Action.STATUS), Command("status"), check)
        cb.register(handle(Action.NEW), Nav.filter(F.action == Action.NEW), check)
        cb.register(handle(Action.STATUS), Nav.filter(F.action == Action.STATUS), check)
    msg.register(after_filing(Action.MENU), Command("cancel"), filed)
    cb.register(after_filing(Action.MENU), Nav.filter(F.action == Action.CANCEL), filed)
    back = Nav.filter(F.action == Action.BACK)
    cb.register(ask_first(Action.MENU), ReportFlow.group, back, writing_in_progress)
    cb.register(keep, StateFilter(*DRAFTING), Nav.filter(F.action == Action.KEEP))
    cb.register(discard_and_go_on, Discard.filter())
    return router
