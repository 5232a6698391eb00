"""New report, first half: category → anyone in danger → who it involves → department → writing.

The second half (writing, review, receipt, commit, notifications) is in `report_writing` and
`report_submit`. Every step has Back and Cancel; labels never go into callback data.
"""

from __future__ import annotations

import datetime as dt

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.i18n import gettext as _

from cases.categories import CATEGORIES, group_by_code
from cases.danger import Danger
from cases.intake import HandlerRoute, InvolvedHandler
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
from handlers.report_steps import (
    category_rows,
    danger_rows,
    department_rows,
    group_rows,
    handler_rows,
    route_rows,
)
from handlers.report_writing import show_writing
from handlers.states import ReportFlow, discard, load, save


async def _show(message: Message, text: str, rows: list[list[InlineKeyboardButton]]) -> None:
    """Replace the step's message (buttons live on one message per step)."""
    await message.edit_text(text, reply_markup=keyboard(*rows))


async def open_report(message: Message, state: FSMContext, bot: Bot) -> None:
    """A fresh report at its first step (anything shown of an earlier draft is removed)."""
    await discard(state, bot, message.chat.id)
    await state.set_state(ReportFlow.group)
    await message.answer(_("report.choose_group"), reply_markup=keyboard(*group_rows()))


async def start_report(query: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await open_report(query.message, state, bot)


async def pick_group(query: CallbackQuery, callback_data: PickGroup, state: FSMContext) -> None:
    await query.answer()
    group = group_by_code(callback_data.code)
    if group is None or not isinstance(query.message, Message):
        return
    conversation = await load(state)
    conversation.group = group.code  # Back from the next step returns to this list
    await save(state, conversation)
    await state.set_state(ReportFlow.category)
    await _show(query.message, _("report.choose_category"), category_rows(group))


async def show_groups(message: Message, state: FSMContext) -> None:
    await state.set_state(ReportFlow.group)
    await _show(message, _("report.choose_group"), group_rows())


async def show_categories(message: Message, state: FSMContext) -> None:
    """The kinds of the group chosen before, or the groups if none was ("not sure")."""
    group = group_by_code((await load(state)).group or "")
    if group is None:
        await show_groups(message, state)
        return
    await state.set_state(ReportFlow.category)
    await _show(message, _("report.choose_category"), category_rows(group))


async def pick_category(
    query: CallbackQuery, callback_data: PickCategory, state: FSMContext
) -> None:
    await query.answer()
    if callback_data.code not in CATEGORIES:
        return  # forged button data: nothing to do, nothing echoed
    conversation = await load(state)
    conversation.category = callback_data.code
    if await state.get_state() == ReportFlow.group.state:
        conversation.group = None  # "not sure" among the groups: Back returns to the groups
    await save(state, conversation)
    if isinstance(query.message, Message):
        await show_danger_question(query.message, state)


async def show_danger_question(message: Message, state: FSMContext) -> None:
    await state.set_state(ReportFlow.danger)
    await _show(message, _("danger.question"), danger_rows())


async def pick_danger(
    query: CallbackQuery, callback_data: PickDanger, state: FSMContext, draft_ttl: dt.timedelta
) -> None:
    """Keyword rules miss most danger described in new words, so the reporter is asked.

    "Yes" makes the case urgent at filing (`cases.intake`). After "yes" or "not sure" the bot
    says, on a message of its own that stays, that it is no emergency service.
    """
    await query.answer()
    if not isinstance(query.message, Message):
        return
    conversation = await load(state)
    conversation.danger = callback_data.answer
    await save(state, conversation)
    if callback_data.answer == Danger.NO:
        await show_handler_question(query.message, state)
        return
    emergency = _("danger.emergency").format(duration=duration_text(draft_ttl))
    notice = emergency
    if callback_data.answer == Danger.YES:
        notice = _("danger.urgent") + "\n\n" + emergency
    await query.message.edit_text(notice)
    await state.set_state(ReportFlow.handler)
    await query.message.answer(_("handler.question"), reply_markup=keyboard(*handler_rows()))


async def show_handler_question(message: Message, state: FSMContext) -> None:
    await state.set_state(ReportFlow.handler)
    await _show(message, _("handler.question"), handler_rows())


async def show_route_question(message: Message, state: FSMContext) -> None:
    await state.set_state(ReportFlow.handler_route)
    await _show(message, _("handler.route_question"), route_rows())


async def pick_handler(
    query: CallbackQuery, callback_data: PickHandler, state: FSMContext, departments: list[str]
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    conversation = await load(state)
    conversation.involves_handler = None
    conversation.handler_route = None
    if callback_data.code == InvolvedHandler.UNION:
        # DESIGN §4: reports about union officers or union funds go to discipline.
        conversation.involves_handler = InvolvedHandler.UNION
        conversation.handler_route = HandlerRoute.DISCIPLINE
    elif callback_data.code == InvolvedHandler.DISCIPLINE:
        conversation.involves_handler = InvolvedHandler.DISCIPLINE
        await save(state, conversation)
        await show_route_question(query.message, state)
        return
    await save(state, conversation)
    await show_departments(query.message, state, departments)


async def pick_route(
    query: CallbackQuery, callback_data: PickRoute, state: FSMContext, departments: list[str]
) -> None:
    await query.answer()
    if callback_data.code not in (HandlerRoute.UNION, HandlerRoute.OVERSEER):
        return
    conversation = await load(state)
    conversation.handler_route = callback_data.code
    await save(state, conversation)
    if isinstance(query.message, Message):
        await show_departments(query.message, state, departments)


async def show_departments(message: Message, state: FSMContext, departments: list[str]) -> None:
    await state.set_state(ReportFlow.department)
    await _show(message, _("department.question"), department_rows(departments))


async def pick_department(
    query: CallbackQuery,
    callback_data: PickDepartment,
    state: FSMContext,
    departments: list[str],
) -> None:
    await query.answer()
    conversation = await load(state)
    index = callback_data.index
    conversation.department = index if 0 <= index < len(departments) else None
    await save(state, conversation)
    if isinstance(query.message, Message):
        await show_writing(query.message, state, edit=True)


async def back(query: CallbackQuery, state: FSMContext, bot: Bot, departments: list[str]) -> None:
    """Back one step from any of the first steps of a new report.

    Back from the first step with something written is asked about first (`handlers.drafts`).
    """
    await query.answer()
    if not isinstance(query.message, Message):
        return
    current = await state.get_state()
    if current == ReportFlow.group.state:
        await discard(state, bot, query.message.chat.id)
        await query.message.edit_text(_("menu.title"), reply_markup=menu_keyboard())
    elif current == ReportFlow.category.state:
        await show_groups(query.message, state)
    elif current == ReportFlow.danger.state:
        await show_categories(query.message, state)
    elif current == ReportFlow.handler.state:
        await show_danger_question(query.message, state)
    elif current == ReportFlow.handler_route.state:
        await show_handler_question(query.message, state)
    elif current == ReportFlow.department.state:
        if (await load(state)).involves_handler == InvolvedHandler.DISCIPLINE:
            await show_route_question(query.message, state)
        else:
            await show_handler_question(query.message, state)
    elif current == ReportFlow.writing.state:
        await show_departments(query.message, state, departments)


def build() -> Router:
    """The first steps of the new-report conversation."""
    router = Router(name="report")
    cb = router.callback_query
    cb.register(start_report, Nav.filter(F.action == Action.NEW))
    # Also from the kinds' step: a draft saved before the group was remembered shows groups.
    cb.register(pick_group, ReportFlow.group, PickGroup.filter())
    cb.register(pick_group, ReportFlow.category, PickGroup.filter())
    cb.register(pick_category, ReportFlow.group, PickCategory.filter())
    cb.register(pick_category, ReportFlow.category, PickCategory.filter())
    cb.register(pick_danger, ReportFlow.danger, PickDanger.filter())
    cb.register(pick_handler, ReportFlow.handler, PickHandler.filter())
    cb.register(pick_route, ReportFlow.handler_route, PickRoute.filter())
    cb.register(pick_department, ReportFlow.department, PickDepartment.filter())
    back_states = (
        ReportFlow.group,
        ReportFlow.category,
        ReportFlow.danger,
        ReportFlow.handler,
        ReportFlow.handler_route,
        ReportFlow.department,
        ReportFlow.writing,
    )
    for back_state in back_states:
        cb.register(back, back_state, Nav.filter(F.action == Action.BACK))
    return router
