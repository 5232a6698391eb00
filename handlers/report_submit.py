"""New report, the end: receipt → "I have saved it" → commit → notifications → clean-up."""

from __future__ import annotations

import base64
import datetime as dt

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from cases.categories import OTHER
from cases.intake import Attachment, Draft, IntakeService, NotifyLevel
from cases.ratelimit import RateLimiter
from handlers.common import Action, Nav, PickNotify, cancel_row, duration_text, keyboard
from handlers.report_steps import notify_rows, receipt_rows, writing_rows
from handlers.states import Conversation, ReportFlow, delete_messages, load, reset, save
from storage.crypto.receipts import format_receipt, new_receipt


async def show_receipt(
    query: CallbackQuery, state: FSMContext, limiter: RateLimiter, draft_ttl: dt.timedelta
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    # Checked here too (and counted at the commit): no receipt is shown for a case that could
    # not be filed today. The reporter stays on the review with the draft.
    if not limiter.report_possible(query.message.chat.id):
        await query.message.answer(
            _("rate.reports_at_confirm").format(duration=duration_text(draft_ttl)),
            reply_markup=keyboard(cancel_row()),
        )
        return
    conversation = await load(state)
    # The receipt exists only in this conversation until the reporter says it is saved; the
    # case is committed after that, so no crash leaves a case its reporter cannot reach.
    conversation.receipt = new_receipt()
    await state.set_state(ReportFlow.receipt)
    shown = await query.message.answer(
        _("report.receipt").format(receipt=format_receipt(conversation.receipt)),
        reply_markup=keyboard(*receipt_rows()),
    )
    conversation.sensitive_ids.append(shown.message_id)
    conversation.receipt_message_id = shown.message_id
    await save(state, conversation)


async def back_from_receipt(query: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    """Back before committing: the receipt is dropped (a new one comes with the next confirm)."""
    await query.answer()
    conversation = await load(state)
    shown = conversation.receipt_message_id
    conversation.receipt = None
    conversation.receipt_message_id = None
    # The receipt message goes now (wherever Back was pressed); it is not deleted twice later.
    conversation.sensitive_ids = [i for i in conversation.sensitive_ids if i != shown]
    await save(state, conversation)
    await state.set_state(ReportFlow.writing)
    if isinstance(query.message, Message):
        if shown is not None:
            await delete_messages(bot, query.message.chat.id, [shown])
        await query.message.answer(
            _("report.continue_writing"), reply_markup=keyboard(*writing_rows())
        )


def draft_of(conversation: Conversation, departments: list[str]) -> Draft:
    index = conversation.department
    department = departments[index] if index is not None and 0 <= index < len(departments) else None
    return Draft(
        category=conversation.category or OTHER,
        text=conversation.text,
        involves_handler=conversation.involves_handler,
        handler_route=conversation.handler_route,
        department=department,
        danger=conversation.danger,
        attachments=tuple(
            Attachment(name, mime, base64.b64decode(content))
            for name, mime, content in conversation.attachments
        ),
    )


async def commit(
    query: CallbackQuery,
    state: FSMContext,
    bot: Bot,
    intake: IntakeService,
    departments: list[str],
    limiter: RateLimiter,
) -> None:
    # Answer first: the commit runs Argon2 and Telegram shows a spinner until answered.
    await query.answer(_("report.saving"))
    conversation = await load(state)
    if not isinstance(query.message, Message) or not conversation.receipt:
        return
    if not limiter.report_allowed(query.message.chat.id):
        await query.message.answer(_("rate.reports"))
        return
    # Leave the receipt state before the slow work, so a second press cannot commit twice.
    await state.set_state(ReportFlow.notify)
    try:
        submitted = await intake.submit(draft_of(conversation, departments), conversation.receipt)
    except Exception:
        # Nothing was committed: put the reporter back on the receipt so a retry works.
        await state.set_state(ReportFlow.receipt)
        raise
    # The case exists: what showed the receipt or echoed the report goes at once, whatever the
    # reporter does next, so a glance at the phone later shows little.
    await delete_messages(bot, query.message.chat.id, conversation.sensitive_ids)
    conversation.sensitive_ids = []
    conversation.receipt = None
    conversation.receipt_message_id = None
    conversation.parts = []
    conversation.attachments = []
    conversation.case_id = submitted.case_id
    conversation.reference = submitted.reference
    conversation.reporter_seed = submitted.reporter_seed.hex()
    await save(state, conversation)
    await query.message.answer(
        _("report.filed").format(reference=submitted.reference),
        reply_markup=keyboard(*notify_rows()),
    )


async def choose_notifications(
    query: CallbackQuery,
    callback_data: PickNotify,
    state: FSMContext,
    intake: IntakeService,
    i18n: I18n,
) -> None:
    await query.answer()
    conversation = await load(state)
    if not isinstance(query.message, Message) or not conversation.case_id:
        return
    level = callback_data.level
    if level not in (NotifyLevel.FULL, NotifyLevel.STATUS_ONLY, NotifyLevel.OFF):
        return
    if level != NotifyLevel.OFF and conversation.reporter_seed:
        await intake.set_notifications(
            conversation.case_id,
            level,
            chat_id=query.message.chat.id,
            language=i18n.current_locale,
            reporter_seed=bytes.fromhex(conversation.reporter_seed),
        )
    await reset(state)
    key = "notify.chosen_on" if level != NotifyLevel.OFF else "notify.chosen_off"
    await query.message.edit_text(_(key) + "\n\n" + _("report.clear_chat"))


def build() -> Router:
    """Receipt, commit and notification choice."""
    router = Router(name="report_submit")
    cb = router.callback_query
    cb.register(show_receipt, ReportFlow.review, Nav.filter(F.action == Action.CONFIRM))
    cb.register(back_from_receipt, ReportFlow.receipt, Nav.filter(F.action == Action.BACK))
    cb.register(commit, ReportFlow.receipt, Nav.filter(F.action == Action.SAVED))
    cb.register(choose_notifications, ReportFlow.notify, PickNotify.filter())
    return router
