"""New report, first half: category → who it involves → department → writing.

The second half (writing, review, receipt, commit, notifications) is in `report_writing` and
`report_submit`. Every step has Back and Cancel; labels never go into callback data.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.i18n import gettext as _

from cases.categories import CATEGORIES, GROUPS, OTHER, group_by_code
from cases.intake import HandlerRoute, InvolvedHandler
from handlers.common import (
    Action,
    Nav,
    PickCategory,
    PickDepartment,
    PickGroup,
    PickHandler,
    PickRoute,
    back_cancel_row,
    button,
    keyboard,
    menu_keyboard,
)
from handlers.report_writing import show_writing
from handlers.states import ReportFlow, load, reset, save

NO_HANDLER = "none"


def _group_rows() -> list[list[InlineKeyboardButton]]:
    rows = [[button(_(f"group.{g.code}"), PickGroup(code=g.code))] for g in GROUPS]
    rows.append([button(_("category.not_sure"), PickCategory(code=OTHER))])
    rows.append(back_cancel_row())
    return rows


async def _show(message: Message, text: str, rows: list[list[InlineKeyboardButton]]) -> None:
    """Replace the step's message (buttons live on one message per step)."""
    await message.edit_text(text, reply_markup=keyboard(*rows))


async def start_report(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await reset(state)
    await state.set_state(ReportFlow.group)
    if isinstance(query.message, Message):
        await query.message.answer(_("report.choose_group"), reply_markup=keyboard(*_group_rows()))


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
    rows.append(back_cancel_row())
    await _show(query.message, _("report.choose_category"), rows)


async def show_groups(message: Message, state: FSMContext) -> None:
    await state.set_state(ReportFlow.group)
    await _show(message, _("report.choose_group"), _group_rows())


async def pick_category(
    query: CallbackQuery, callback_data: PickCategory, state: FSMContext
) -> None:
    await query.answer()
    if callback_data.code not in CATEGORIES:
        return  # forged button data: nothing to do, nothing echoed
    conversation = await load(state)
    conversation.category = callback_data.code
    await save(state, conversation)
    if isinstance(query.message, Message):
        await show_handler_question(query.message, state)


async def show_handler_question(message: Message, state: FSMContext) -> None:
    await state.set_state(ReportFlow.handler)
    rows = [
        [button(_("handler.none"), PickHandler(code=NO_HANDLER))],
        [button(_("handler.union"), PickHandler(code=InvolvedHandler.UNION))],
        [button(_("handler.discipline"), PickHandler(code=InvolvedHandler.DISCIPLINE))],
        back_cancel_row(),
    ]
    await _show(message, _("handler.question"), rows)


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
        await state.set_state(ReportFlow.handler_route)
        rows = [
            [button(_("handler.route_union"), PickRoute(code=HandlerRoute.UNION))],
            [button(_("handler.route_overseer"), PickRoute(code=HandlerRoute.OVERSEER))],
            back_cancel_row(),
        ]
        await _show(query.message, _("handler.route_question"), rows)
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
    rows = [[button(_("department.prefer_not"), PickDepartment(index=-1))]]
    rows += [[button(name, PickDepartment(index=i))] for i, name in enumerate(departments)]
    rows.append(back_cancel_row())
    await _show(message, _("department.question"), rows)


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


async def back(query: CallbackQuery, state: FSMContext, departments: list[str]) -> None:
    """Back one step from any of the first steps of a new report."""
    await query.answer()
    if not isinstance(query.message, Message):
        return
    current = await state.get_state()
    if current == ReportFlow.group.state:
        await reset(state)
        await query.message.edit_text(_("menu.title"), reply_markup=menu_keyboard())
    elif current in (ReportFlow.category.state, ReportFlow.handler.state):
        await show_groups(query.message, state)
    elif current in (ReportFlow.handler_route.state, ReportFlow.department.state):
        await show_handler_question(query.message, state)
    elif current == ReportFlow.writing.state:
        await show_departments(query.message, state, departments)


def build() -> Router:
    """The first steps of the new-report conversation."""
    router = Router(name="report")
    cb = router.callback_query
    cb.register(start_report, Nav.filter(F.action == Action.NEW))
    cb.register(pick_group, ReportFlow.group, PickGroup.filter())
    cb.register(pick_category, ReportFlow.group, PickCategory.filter())
    cb.register(pick_category, ReportFlow.category, PickCategory.filter())
    cb.register(pick_handler, ReportFlow.handler, PickHandler.filter())
    cb.register(pick_route, ReportFlow.handler_route, PickRoute.filter())
    cb.register(pick_department, ReportFlow.department, PickDepartment.filter())
    back_states = (
        ReportFlow.group,
        ReportFlow.category,
        ReportFlow.handler,
        ReportFlow.handler_route,
        ReportFlow.department,
        ReportFlow.writing,
    )
    for back_state in back_states:
        cb.register(back, back_state, Nav.filter(F.action == Action.BACK))
    return router
