"""New report: category → description → review → receipt → commit → notifications."""

from __future__ import annotations

import contextlib

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from cases.categories import GROUPS, OTHER, group_by_code
from cases.intake import MAX_REPORT_CHARS, Draft, IntakeService, NotifyLevel
from handlers.common import (
    Action,
    Nav,
    PickCategory,
    PickGroup,
    PickNotify,
    button,
    cancel_row,
    echo_user_text,
    keyboard,
)
from handlers.states import ReportFlow, load, reset, save
from storage.crypto.receipts import format_receipt, new_receipt


def _group_keyboard() -> list[list[InlineKeyboardButton]]:
    rows = [[button(_(f"group.{g.code}"), PickGroup(code=g.code))] for g in GROUPS]
    rows.append([button(_("category.not_sure"), PickCategory(code=OTHER))])
    rows.append(cancel_row())
    return rows


async def ask_group(message: Message, state: FSMContext) -> None:
    await state.set_state(ReportFlow.group)
    await message.answer(_("report.choose_group"), reply_markup=keyboard(*_group_keyboard()))


async def start_report(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await reset(state)
    if isinstance(query.message, Message):
        await ask_group(query.message, state)


async def pick_group(query: CallbackQuery, callback_data: PickGroup, state: FSMContext) -> None:
    await query.answer()
    group = group_by_code(callback_data.code)
    if group is None or not isinstance(query.message, Message):
        return
    await state.set_state(ReportFlow.category)
    codes = list(group.categories)
    rows = [
        [button(_(f"category.{code}"), PickCategory(code=code)) for code in codes[i : i + 2]]
        for i in range(0, len(codes), 2)
    ]
    rows.append([button(_("category.not_sure"), PickCategory(code=OTHER))])
    rows.append([button(_("button.back"), Nav(action=Action.BACK))] + cancel_row())
    await query.message.edit_text(_("report.choose_category"), reply_markup=keyboard(*rows))


async def back_to_groups(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(ReportFlow.group)
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("report.choose_group"), reply_markup=keyboard(*_group_keyboard())
        )


async def pick_category(
    query: CallbackQuery, callback_data: PickCategory, state: FSMContext
) -> None:
    await query.answer()
    conversation = await load(state)
    conversation.category = callback_data.code
    conversation.parts = []
    await save(state, conversation)
    await state.set_state(ReportFlow.writing)
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("report.describe").format(category=_(f"category.{callback_data.code}")),
            reply_markup=keyboard(
                [button(_("button.done"), Nav(action=Action.DONE))],
                [button(_("button.back"), Nav(action=Action.BACK))] + cancel_row(),
            ),
        )


async def back_to_category(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await state.set_state(ReportFlow.group)
        await query.message.edit_text(
            _("report.choose_group"), reply_markup=keyboard(*_group_keyboard())
        )


def _writing_keyboard() -> list[list[InlineKeyboardButton]]:
    return [[button(_("button.done"), Nav(action=Action.DONE))], cancel_row()]


async def add_text(message: Message, state: FSMContext) -> None:
    conversation = await load(state)
    text = message.text or ""
    if len(conversation.text) + len(text) + 2 > MAX_REPORT_CHARS:
        await message.answer(
            _("report.too_long").format(limit=MAX_REPORT_CHARS),
            reply_markup=keyboard(*_writing_keyboard()),
        )
        return
    conversation.parts.append(text)
    await save(state, conversation)
    await message.answer(
        _("report.added").format(count=len(conversation.text)),
        reply_markup=keyboard(*_writing_keyboard()),
    )


async def not_text_while_writing(message: Message) -> None:
    await message.answer(_("report.text_only"), reply_markup=keyboard(*_writing_keyboard()))


async def review(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    conversation = await load(state)
    if not isinstance(query.message, Message):
        return
    if not conversation.text.strip():
        await query.message.answer(_("report.empty"), reply_markup=keyboard(*_writing_keyboard()))
        return
    await state.set_state(ReportFlow.review)
    ids = await echo_user_text(query.message, _("report.review_header"), conversation.text)
    await query.message.answer(
        _("report.review_prompt").format(category=_(f"category.{conversation.category}")),
        reply_markup=keyboard(
            [button(_("button.confirm"), Nav(action=Action.CONFIRM))],
            [button(_("button.edit"), Nav(action=Action.EDIT))],
            cancel_row(),
        ),
    )
    conversation.sensitive_ids += ids
    await save(state, conversation)


async def edit(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    conversation = await load(state)
    conversation.parts = []
    await save(state, conversation)
    await state.set_state(ReportFlow.writing)
    if isinstance(query.message, Message):
        await query.message.answer(_("report.rewrite"), reply_markup=keyboard(*_writing_keyboard()))


async def show_receipt(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    conversation = await load(state)
    # The receipt exists only in this conversation until the reporter says it is saved; the
    # case is committed after that, so no crash leaves a case its reporter cannot reach.
    conversation.receipt = new_receipt()
    await state.set_state(ReportFlow.receipt)
    shown = await query.message.answer(
        _("report.receipt").format(receipt=format_receipt(conversation.receipt)),
        reply_markup=keyboard([button(_("button.saved"), Nav(action=Action.SAVED))]),
    )
    conversation.sensitive_ids.append(shown.message_id)
    await save(state, conversation)


async def commit(query: CallbackQuery, state: FSMContext, intake: IntakeService) -> None:
    # Answer first: the commit runs Argon2 and Telegram shows a spinner until answered.
    await query.answer(_("report.saving"))
    conversation = await load(state)
    if not isinstance(query.message, Message) or not conversation.receipt:
        return
    # Leave the receipt state before the slow work, so a second press cannot commit twice.
    await state.set_state(ReportFlow.notify)
    try:
        submitted = await intake.submit(
            Draft(category=conversation.category or OTHER, text=conversation.text),
            conversation.receipt,
        )
    except Exception:
        # Nothing was committed: put the reporter back on the receipt so a retry works.
        await state.set_state(ReportFlow.receipt)
        raise
    conversation.receipt = None
    conversation.parts = []
    conversation.case_id = submitted.case_id
    conversation.reference = submitted.reference
    conversation.reporter_seed = submitted.reporter_seed.hex()
    await save(state, conversation)
    await query.message.answer(
        _("report.filed").format(reference=submitted.reference),
        reply_markup=keyboard(
            [button(_("notify.full"), PickNotify(level=NotifyLevel.FULL))],
            [button(_("notify.off"), PickNotify(level=NotifyLevel.OFF))],
        ),
    )


async def choose_notifications(
    query: CallbackQuery,
    callback_data: PickNotify,
    state: FSMContext,
    bot: Bot,
    intake: IntakeService,
    i18n: I18n,
) -> None:
    await query.answer()
    conversation = await load(state)
    if not isinstance(query.message, Message) or not conversation.case_id:
        return
    if callback_data.level != NotifyLevel.OFF and conversation.reporter_seed:
        await intake.set_notifications(
            conversation.case_id,
            callback_data.level,
            chat_id=query.message.chat.id,
            language=i18n.current_locale,
            reporter_seed=bytes.fromhex(conversation.reporter_seed),
        )
    # Remove what showed the receipt or echoed the report, so a glance at the phone shows little.
    for message_id in conversation.sensitive_ids:
        with contextlib.suppress(TelegramBadRequest):
            await bot.delete_message(query.message.chat.id, message_id)
    await reset(state)
    key = "notify.chosen_on" if callback_data.level != NotifyLevel.OFF else "notify.chosen_off"
    await query.message.edit_text(_(key) + "\n\n" + _("report.clear_chat"))


def build() -> Router:
    """The new-report conversation."""
    router = Router(name="report")
    cb, msg = router.callback_query, router.message
    cb.register(start_report, Nav.filter(F.action == Action.NEW))
    cb.register(pick_group, ReportFlow.group, PickGroup.filter())
    cb.register(back_to_groups, ReportFlow.category, Nav.filter(F.action == Action.BACK))
    cb.register(pick_category, ReportFlow.group, PickCategory.filter())
    cb.register(pick_category, ReportFlow.category, PickCategory.filter())
    cb.register(back_to_category, ReportFlow.writing, Nav.filter(F.action == Action.BACK))
    msg.register(add_text, ReportFlow.writing, F.text)
    msg.register(not_text_while_writing, ReportFlow.writing)
    cb.register(review, ReportFlow.writing, Nav.filter(F.action == Action.DONE))
    cb.register(edit, ReportFlow.review, Nav.filter(F.action == Action.EDIT))
    cb.register(show_receipt, ReportFlow.review, Nav.filter(F.action == Action.CONFIRM))
    cb.register(commit, ReportFlow.receipt, Nav.filter(F.action == Action.SAVED))
    cb.register(choose_notifications, ReportFlow.notify, PickNotify.filter())
    return router
