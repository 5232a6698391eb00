"""Check status: receipt → history and officer notes → reply, or change notifications."""

from __future__ import annotations

import contextlib

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from cases.errors import ReplyLimitReached
from cases.followup import MAX_REPLY_CHARS, ReporterFollowUp
from cases.intake import IntakeService, NotifyLevel
from cases.ratelimit import RateLimiter
from cases.status_view import StatusView
from handlers.common import (
    Action,
    Nav,
    PickNotify,
    back_cancel_row,
    button,
    cancel_row,
    keyboard,
    menu_keyboard,
    split_text,
)
from handlers.states import StatusFlow, load, reset, save
from storage.crypto.receipts import normalize_receipt


async def ask_receipt(message: Message, state: FSMContext) -> None:
    await reset(state)
    await state.set_state(StatusFlow.receipt)
    await message.answer(_("status.ask_receipt"), reply_markup=keyboard(back_cancel_row()))


async def status_command(message: Message, state: FSMContext) -> None:
    await ask_receipt(message, state)


async def status_button(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await ask_receipt(query.message, state)


def reason_label(reason: str) -> str:
    """The reporter's words for a fixed not-accepted reason (the code itself if unknown)."""
    key = f"not_accepted_reason.{reason}"
    label = _(key)
    return reason if label == key else label


def render(view: StatusView) -> str:
    """The history as plain text (sent without parse mode)."""
    lines = [
        _("status.header").format(
            reference=view.reference, status=_(f"reporter_status.{view.status}")
        )
    ]
    for entry in view.history:
        if entry.reply:
            # That and when only: the reply's text is for the officers' eyes (P2).
            lines.append(f"\n• {entry.on.isoformat()} — {_('status.your_reply')}")
            continue
        lines.append(f"\n• {entry.on.isoformat()} — {_(f'reporter_status.{entry.status}')}")
        if entry.reason:
            lines.append("  " + _("status.reason").format(reason=reason_label(entry.reason)))
        if entry.note:
            lines.append("  " + _("status.note").format(note=entry.note))
    return "\n".join(lines)


def _viewing_keyboard() -> InlineKeyboardMarkup:
    return keyboard(
        [button(_("status.reply_button"), Nav(action=Action.REPLY))],
        [button(_("status.notify_button"), Nav(action=Action.NOTIFY))],
        [button(_("button.back"), Nav(action=Action.MENU))],
    )


async def receive_receipt(
    message: Message, state: FSMContext, intake: IntakeService, limiter: RateLimiter
) -> None:
    # The receipt is a secret: remove the reporter's message that carries it.
    with contextlib.suppress(TelegramBadRequest):
        await message.delete()
    digits = normalize_receipt(message.text or "")
    if digits is None:
        await message.answer(_("status.bad_format"), reply_markup=keyboard(cancel_row()))
        return
    refused = limiter.receipt_check_allowed(message.chat.id)
    if refused is not None:
        await message.answer(_(f"rate.{refused}"), reply_markup=menu_keyboard())
        return
    view = await intake.status(digits)
    if view is None:
        limiter.wrong_receipt(message.chat.id)
        await message.answer(_("status.not_found"), reply_markup=keyboard(cancel_row()))
        return
    await reset(state)
    conversation = await load(state)
    conversation.status_receipt = digits
    await save(state, conversation)
    await state.set_state(StatusFlow.viewing)
    # Plain text, no parse mode: officer notes are shown exactly, whatever characters they hold.
    for part in split_text(render(view)):
        await message.answer(part, parse_mode=None)
    await message.answer(_("status.done"), reply_markup=_viewing_keyboard())


async def receipt_not_text(message: Message) -> None:
    await message.answer(_("status.bad_format"), reply_markup=keyboard(cancel_row()))


async def back_to_menu(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await reset(state)
    if isinstance(query.message, Message):
        await query.message.answer(_("menu.title"), reply_markup=menu_keyboard())


async def ask_reply(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(StatusFlow.replying)
    if isinstance(query.message, Message):
        await query.message.answer(_("status.ask_reply"), reply_markup=keyboard(back_cancel_row()))


async def back_to_viewing(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(StatusFlow.viewing)
    if isinstance(query.message, Message):
        await query.message.answer(_("status.done"), reply_markup=_viewing_keyboard())


def _replied_keyboard() -> InlineKeyboardMarkup:
    # No Cancel here: what was sent is saved, and "nothing was saved" would not be true.
    return keyboard([button(_("button.done"), Nav(action=Action.DONE))])


async def receive_reply(
    message: Message, state: FSMContext, followup: ReporterFollowUp, limiter: RateLimiter
) -> None:
    """Each message is one reply, saved as it arrives; the step stays open for more, so a
    text that Telegram delivers as several messages arrives whole, in order."""
    conversation = await load(state)
    if not conversation.status_receipt:
        await ask_receipt(message, state)
        return
    text = message.text or ""
    if len(text) > MAX_REPLY_CHARS:
        await message.answer(
            _("status.reply_too_long").format(limit=MAX_REPLY_CHARS),
            reply_markup=keyboard(back_cancel_row()),
        )
        return
    # Each reply derives the receipt's key (Argon2): counted like a receipt check, before it.
    # A refusal keeps the step and the receipt, so the reporter sends this message again later.
    refused = limiter.followup_allowed(message.chat.id)
    if refused is not None:
        wait = _("status.reply_busy") if refused == "busy" else _("status.reply_wait")
        await message.answer(wait, reply_markup=keyboard(back_cancel_row()))
        return
    try:
        saved = await followup.reply(conversation.status_receipt, text)
    except ReplyLimitReached as full:
        await message.answer(
            _("status.reply_limit").format(limit=full.limit),
            reply_markup=keyboard(back_cancel_row()),
        )
        return
    if not saved:
        # The receipt opens no case any more (purged after closing): say so, keep nothing.
        await reset(state)
        await message.answer(_("status.case_gone"), reply_markup=menu_keyboard())
        return
    await message.answer(_("status.reply_saved"), reply_markup=_replied_keyboard())


async def replies_finished(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(StatusFlow.viewing)
    if isinstance(query.message, Message):
        await query.message.answer(_("status.reply_finished"), reply_markup=_viewing_keyboard())


async def reply_not_text(message: Message) -> None:
    await message.answer(_("status.reply_text_only"), reply_markup=keyboard(back_cancel_row()))


async def ask_notify(query: CallbackQuery) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _("status.notify_choose"),
            reply_markup=keyboard(
                [button(_("notify.full"), PickNotify(level=NotifyLevel.FULL))],
                [button(_("notify.status_only"), PickNotify(level=NotifyLevel.STATUS_ONLY))],
                [button(_("notify.off"), PickNotify(level=NotifyLevel.OFF))],
                back_cancel_row(),
            ),
        )


async def change_notify(
    query: CallbackQuery,
    callback_data: PickNotify,
    state: FSMContext,
    followup: ReporterFollowUp,
    i18n: I18n,
    limiter: RateLimiter,
) -> None:
    await query.answer()
    conversation = await load(state)
    if not isinstance(query.message, Message) or not conversation.status_receipt:
        return
    if callback_data.level not in (NotifyLevel.FULL, NotifyLevel.STATUS_ONLY, NotifyLevel.OFF):
        return
    # A change derives the receipt's key (Argon2) too: counted like a reply.
    refused = limiter.followup_allowed(query.message.chat.id)
    if refused is not None:
        wait = _("status.notify_busy") if refused == "busy" else _("status.notify_wait")
        await query.message.edit_text(wait, reply_markup=_viewing_keyboard())
        return
    changed = await followup.change_notifications(
        conversation.status_receipt,
        callback_data.level,
        chat_id=query.message.chat.id,
        language=i18n.current_locale,
    )
    if not changed:
        await reset(state)
        await query.message.edit_text(_("status.case_gone"), reply_markup=menu_keyboard())
        return
    await query.message.edit_text(_("status.notify_changed"), reply_markup=_viewing_keyboard())


def build() -> Router:
    """The check-status conversation."""
    router = Router(name="status")
    cb, msg = router.callback_query, router.message
    msg.register(status_command, Command("status"))
    cb.register(status_button, Nav.filter(F.action == Action.STATUS))
    msg.register(receive_receipt, StatusFlow.receipt, F.text)
    msg.register(receipt_not_text, StatusFlow.receipt)
    cb.register(back_to_menu, StatusFlow.receipt, Nav.filter(F.action == Action.BACK))
    cb.register(back_to_menu, StatusFlow.viewing, Nav.filter(F.action == Action.MENU))
    cb.register(ask_reply, StatusFlow.viewing, Nav.filter(F.action == Action.REPLY))
    cb.register(ask_notify, StatusFlow.viewing, Nav.filter(F.action == Action.NOTIFY))
    cb.register(change_notify, StatusFlow.viewing, PickNotify.filter())
    cb.register(back_to_viewing, StatusFlow.viewing, Nav.filter(F.action == Action.BACK))
    cb.register(back_to_viewing, StatusFlow.replying, Nav.filter(F.action == Action.BACK))
    cb.register(replies_finished, StatusFlow.replying, Nav.filter(F.action == Action.DONE))
    msg.register(receive_reply, StatusFlow.replying, F.text)
    msg.register(reply_not_text, StatusFlow.replying)
    return router
