"""Check status: receipt → reporter-visible history and officer notes."""

from __future__ import annotations

import contextlib

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from cases.intake import IntakeService, StatusView
from handlers.common import Action, Nav, cancel_row, keyboard, menu_keyboard, split_text
from handlers.states import StatusFlow, reset
from storage.crypto.receipts import normalize_receipt


async def ask_receipt(message: Message, state: FSMContext) -> None:
    await reset(state)
    await state.set_state(StatusFlow.receipt)
    await message.answer(_("status.ask_receipt"), reply_markup=keyboard(cancel_row()))


async def status_command(message: Message, state: FSMContext) -> None:
    await ask_receipt(message, state)


async def status_button(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await ask_receipt(query.message, state)


def render(view: StatusView) -> str:
    """The history as plain text (sent without parse mode)."""
    lines = [
        _("status.header").format(
            reference=view.reference, status=_(f"reporter_status.{view.status}")
        )
    ]
    for entry in view.history:
        lines.append(f"\n• {entry.on.isoformat()} — {_(f'reporter_status.{entry.status}')}")
        if entry.note:
            lines.append(f"  {_('status.note')}: {entry.note}")
    return "\n".join(lines)


async def receive_receipt(message: Message, state: FSMContext, intake: IntakeService) -> None:
    # The receipt is a secret: remove the reporter's message that carries it.
    with contextlib.suppress(TelegramBadRequest):
        await message.delete()
    digits = normalize_receipt(message.text or "")
    if digits is None:
        await message.answer(_("status.bad_format"), reply_markup=keyboard(cancel_row()))
        return
    view = await intake.status(digits)
    if view is None:
        await message.answer(_("status.not_found"), reply_markup=keyboard(cancel_row()))
        return
    await reset(state)
    # Plain text, no parse mode: officer notes are shown exactly, whatever characters they hold.
    for part in split_text(render(view)):
        await message.answer(part, parse_mode=None)
    await message.answer(_("status.done"), reply_markup=menu_keyboard())


async def receipt_not_text(message: Message) -> None:
    await message.answer(_("status.bad_format"), reply_markup=keyboard(cancel_row()))


def build() -> Router:
    """The check-status conversation."""
    router = Router(name="status")
    router.message.register(status_command, Command("status"))
    router.callback_query.register(status_button, Nav.filter(F.action == Action.STATUS))
    router.message.register(receive_receipt, StatusFlow.receipt, F.text)
    router.message.register(receipt_not_text, StatusFlow.receipt)
    return router
