"""New report, the description: text messages (and cleaned files) until Done, then review."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.i18n import gettext as _

from cases.categories import OTHER
from cases.intake import MAX_REPORT_CHARS
from handlers.common import (
    Action,
    Nav,
    back_cancel_row,
    button,
    echo_user_text,
    keyboard,
)
from handlers.states import Conversation, ReportFlow, load, save


def writing_rows() -> list[list[InlineKeyboardButton]]:
    return [[button(_("button.done"), Nav(action=Action.DONE))], back_cancel_row()]


def _category_label(conversation: Conversation) -> str:
    return _(f"category.{conversation.category or OTHER}")


async def show_writing(message: Message, state: FSMContext, *, edit: bool) -> None:
    """The description step; kept text and files stay in the draft."""
    await state.set_state(ReportFlow.writing)
    conversation = await load(state)
    text = _("report.describe").format(category=_category_label(conversation))
    if edit:
        await message.edit_text(text, reply_markup=keyboard(*writing_rows()))
    else:
        await message.answer(text, reply_markup=keyboard(*writing_rows()))


async def add_text(message: Message, state: FSMContext) -> None:
    conversation = await load(state)
    text = message.text or ""
    if len(conversation.text) + len(text) + 2 > MAX_REPORT_CHARS:
        await message.answer(
            _("report.too_long").format(limit=MAX_REPORT_CHARS),
            reply_markup=keyboard(*writing_rows()),
        )
        return
    conversation.parts.append(text)
    notice = ""
    # P9: the text of a forwarded message is kept, its origin (who wrote it, where) is not.
    if message.forward_origin is not None and not conversation.forwarded_warned:
        conversation.forwarded_warned = True
        notice = _("forward.warning") + "\n\n"
    await save(state, conversation)
    await message.answer(
        notice + _("report.added").format(count=len(conversation.text)),
        reply_markup=keyboard(*writing_rows()),
    )


async def not_text_while_writing(message: Message) -> None:
    await message.answer(_("report.not_added"), reply_markup=keyboard(*writing_rows()))


async def review(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    conversation = await load(state)
    if not isinstance(query.message, Message):
        return
    if not conversation.text.strip():
        await query.message.answer(_("report.empty"), reply_markup=keyboard(*writing_rows()))
        return
    await state.set_state(ReportFlow.review)
    ids = await echo_user_text(query.message, _("report.review_header"), conversation.text)
    prompt = _("report.review_prompt").format(category=_category_label(conversation))
    if conversation.attachments:
        prompt += "\n" + _("report.review_files").format(count=len(conversation.attachments))
    await query.message.answer(
        prompt,
        reply_markup=keyboard(
            [button(_("button.confirm"), Nav(action=Action.CONFIRM))],
            [button(_("button.edit"), Nav(action=Action.EDIT))],
            back_cancel_row(),
        ),
    )
    conversation.sensitive_ids += ids
    await save(state, conversation)


async def rewrite(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    conversation = await load(state)
    conversation.parts = []
    conversation.attachments = []
    conversation.media_groups = []
    await save(state, conversation)
    await state.set_state(ReportFlow.writing)
    if isinstance(query.message, Message):
        await query.message.answer(_("report.rewrite"), reply_markup=keyboard(*writing_rows()))


async def back_to_writing(query: CallbackQuery, state: FSMContext) -> None:
    """From review: keep everything written and continue adding."""
    await query.answer()
    await state.set_state(ReportFlow.writing)
    if isinstance(query.message, Message):
        await query.message.answer(
            _("report.continue_writing"), reply_markup=keyboard(*writing_rows())
        )


def build() -> Router:
    """Writing and review."""
    router = Router(name="report_writing")
    cb, msg = router.callback_query, router.message
    msg.register(add_text, ReportFlow.writing, F.text)
    cb.register(review, ReportFlow.writing, Nav.filter(F.action == Action.DONE))
    cb.register(rewrite, ReportFlow.review, Nav.filter(F.action == Action.EDIT))
    cb.register(back_to_writing, ReportFlow.review, Nav.filter(F.action == Action.BACK))
    return router


def build_last() -> Router:
    """Non-text input while writing; included after the attachment handlers."""
    router = Router(name="report_writing_last")
    router.message.register(not_text_while_writing, ReportFlow.writing)
    return router
