"""Last resort: input no conversation step expects gets a clear answer, never silence.

Nothing here changes the conversation: typing at a step that takes buttons shows that step's
buttons again, and a message with no conversation at all gets the welcome. "Your draft
expired" is said only where there is evidence of one: a press on a button of a report step.
"""

from __future__ import annotations

import datetime as dt

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.common import (
    Action,
    Nav,
    PickCategory,
    PickDanger,
    PickDepartment,
    PickGroup,
    PickHandler,
    PickRoute,
    duration_text,
    keyboard,
    menu_keyboard,
)
from handlers.report_steps import step_rows
from handlers.states import ReportFlow, load

# Buttons that exist only inside a report being written: pressed with no conversation, they
# show that a draft was lost (expired, or the bot restarted without persistent drafts).
_DRAFT_BUTTONS: tuple[type[CallbackData], ...] = (
    PickGroup,
    PickCategory,
    PickDanger,
    PickHandler,
    PickRoute,
    PickDepartment,
)
_DRAFT_ACTIONS = frozenset({Action.DONE, Action.CONFIRM, Action.EDIT, Action.SAVED, Action.KEEP})


def _from_a_draft(data: str) -> bool:
    for kind in _DRAFT_BUTTONS:
        if data.startswith(kind.__prefix__ + ":"):
            return True
    try:
        return Nav.unpack(data).action in _DRAFT_ACTIONS
    except (TypeError, ValueError):
        return False


async def unexpected_message(
    message: Message, state: FSMContext, departments: list[str], draft_ttl: dt.timedelta
) -> None:
    step = await state.get_state()
    if step is None:
        # A first message without /start, or "thanks" after filing: welcome them, and say
        # gently how long an unfinished draft is kept, in case one was lost.
        note = _("draft.kept_note").format(duration=duration_text(draft_ttl))
        await message.answer(_("start.welcome") + "\n\n" + note, reply_markup=menu_keyboard())
        return
    rows = step_rows(step, await load(state), departments)
    if rows is not None:
        # Typed at a step that takes buttons: the same step again, the draft untouched.
        key = "notify.use_buttons" if step == ReportFlow.notify.state else "step.use_buttons"
        await message.answer(_(key), reply_markup=keyboard(*rows))
        return
    await message.answer(_("fallback.message"), reply_markup=menu_keyboard())


async def stale_button(query: CallbackQuery, state: FSMContext) -> None:
    # A button from an earlier step (or pressed twice): say so, change nothing.
    if await state.get_state() is None and isinstance(query.message, Message):
        await query.answer()
        key = "draft.expired" if _from_a_draft(query.data or "") else "fallback.stale_button"
        await query.message.answer(_(key), reply_markup=menu_keyboard())
        return
    await query.answer(_("fallback.stale_button"), show_alert=False)


def build() -> Router:
    """Catch-all handlers; include last."""
    router = Router(name="fallback")
    router.message.register(unexpected_message, F.chat.type == ChatType.PRIVATE)
    router.callback_query.register(stale_button)
    return router
