"""New report, the description: text messages (and cleaned files) until Done, then review."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from cases.categories import OTHER
from cases.intake import MAX_REPORT_CHARS, InvolvedHandler
from handlers.common import Action, Nav, echo_user_text, keyboard, quote
from handlers.report_steps import review_rows, writing_rows
from handlers.states import Conversation, ReportFlow, delete_messages, load, save


def _category_label(conversation: Conversation) -> str:
    return _(f"category.{conversation.category or OTHER}")


def _danger_label(conversation: Conversation) -> str:
    if conversation.danger is None:
        return "—"  # a draft begun before the question existed
    return _(f"danger.review_{conversation.danger.value}")


def _involves_label(conversation: Conversation) -> str:
    if conversation.involves_handler == InvolvedHandler.UNION:
        return _("handler.union")
    if conversation.involves_handler == InvolvedHandler.DISCIPLINE:
        return f"{_('handler.discipline')} → {_(f'handler.route_{conversation.handler_route}')}"
    return _("handler.none")


def _department_label(conversation: Conversation, departments: list[str]) -> str:
    index = conversation.department
    if index is None or not 0 <= index < len(departments):
        return _("department.prefer_not")
    return quote(departments[index])  # configured by the operator, shown with parse_mode=HTML


def review_summary(conversation: Conversation, departments: list[str]) -> str:
    """Every answer the report will carry besides its text, for the review screen."""
    summary = _("report.review_summary").format(
        category=_category_label(conversation),
        danger=_danger_label(conversation),
        involves=_involves_label(conversation),
        department=_department_label(conversation, departments),
    )
    if conversation.attachments:
        summary += "\n" + _("report.review_files").format(count=len(conversation.attachments))
    return summary


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


def keep_caption(conversation: Conversation, caption: str | None) -> bool | None:
    """A caption is part of the description, even on a file that is refused.

    None: there was no caption; True: it was added; False: too long for the report, not added.
    """
    if not caption:
        return None
    if len(conversation.text) + len(caption) + 2 > MAX_REPORT_CHARS:
        return False
    conversation.parts.append(caption)
    return True


def caption_notice(kept: bool | None, *, file_refused: bool) -> str:
    """What to tell about a caption: always when too long; when kept, only if the file was not."""
    if kept is False:
        return _("report.too_long").format(limit=MAX_REPORT_CHARS)
    if kept and file_refused:
        return _("file.caption_kept")
    return ""


async def not_text_while_writing(message: Message, state: FSMContext) -> None:
    # A video, an audio file or an animation is not added, but its caption is kept.
    conversation = await load(state)
    kept = keep_caption(conversation, message.caption)
    if kept:
        await save(state, conversation)
    notice = caption_notice(kept, file_refused=True)
    reply = _("report.not_added") + (f"\n\n{notice}" if notice else "")
    await message.answer(reply, reply_markup=keyboard(*writing_rows()))


async def review(query: CallbackQuery, state: FSMContext, departments: list[str]) -> None:
    await query.answer()
    conversation = await load(state)
    if not isinstance(query.message, Message):
        return
    if not conversation.text.strip():
        await query.message.answer(_("report.empty"), reply_markup=keyboard(*writing_rows()))
        return
    await state.set_state(ReportFlow.review)
    ids = await echo_user_text(query.message, _("report.review_header"), conversation.text)
    prompt = await query.message.answer(
        review_summary(conversation, departments), reply_markup=keyboard(*review_rows())
    )
    # The summary names the department, which narrows who the reporter is: it goes too.
    conversation.sensitive_ids += [*ids, prompt.message_id]
    await save(state, conversation)


async def rewrite(query: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    """Start the description again: its text and its files go (the only way to take a file back)."""
    await query.answer()
    conversation = await load(state)
    files = len(conversation.attachments)
    if isinstance(query.message, Message):
        # What the review showed is no longer the report: remove it now.
        await delete_messages(bot, query.message.chat.id, conversation.sensitive_ids)
        conversation.sensitive_ids = []
    conversation.parts = []
    conversation.attachments = []
    conversation.media_groups = []
    await save(state, conversation)
    await state.set_state(ReportFlow.writing)
    if isinstance(query.message, Message):
        text = _("report.rewrite_files").format(count=files) if files else _("report.rewrite")
        await query.message.answer(text, reply_markup=keyboard(*writing_rows()))


async def back_to_writing(query: CallbackQuery, state: FSMContext) -> None:
    """From review: keep everything written and continue adding."""
    await query.answer()
    await state.set_state(ReportFlow.writing)
    if isinstance(query.message, Message):
        await query.message.answer(
            _("report.continue_writing"), reply_markup=keyboard(*writing_rows())
        )


def _not_a_command(message: Message) -> bool:
    """/status typed while writing is a command (asked about first), not a line of the report."""
    return not any(e.type == "bot_command" and e.offset == 0 for e in message.entities or [])


def build() -> Router:
    """Writing and review."""
    router = Router(name="report_writing")
    cb, msg = router.callback_query, router.message
    msg.register(add_text, ReportFlow.writing, F.text, _not_a_command)
    cb.register(review, ReportFlow.writing, Nav.filter(F.action == Action.DONE))
    cb.register(rewrite, ReportFlow.review, Nav.filter(F.action == Action.EDIT))
    cb.register(back_to_writing, ReportFlow.review, Nav.filter(F.action == Action.BACK))
    return router


def build_last() -> Router:
    """Non-text input while writing; included after the attachment handlers."""
    router = Router(name="report_writing_last")
    router.message.register(not_text_while_writing, ReportFlow.writing)
    return router
