"""The buttons of each new-report step, and of whichever step the conversation is at.

Buttons live on one message per step. When the reporter types where a button is expected, or
chooses to keep a draft after being asked, the current step's buttons are shown again from
here, so the step (and the draft) stay exactly as they were.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _

from cases.categories import GROUPS, OTHER, Group, group_by_code
from cases.danger import Danger
from cases.intake import HandlerRoute, InvolvedHandler, NotifyLevel
from handlers.common import (
    Action,
    Nav,
    PickCategory,
    PickDanger,
    PickDepartment,
    PickGroup,
    PickHandler,
    PickNotify,
    PickRoute,
    back_cancel_row,
    button,
)
from handlers.states import Conversation, ReportFlow

Rows = list[list[InlineKeyboardButton]]
NO_HANDLER = "none"


def group_rows() -> Rows:
    rows = [[button(_(f"group.{g.code}"), PickGroup(code=g.code))] for g in GROUPS]
    rows.append([button(_("category.not_sure"), PickCategory(code=OTHER))])
    rows.append(back_cancel_row())
    return rows


def category_rows(group: Group) -> Rows:
    codes = list(group.categories)
    rows = [
        [button(_(f"category.{code}"), PickCategory(code=code)) for code in codes[i : i + 2]]
        for i in range(0, len(codes), 2)
    ]
    rows.append([button(_("category.not_sure"), PickCategory(code=OTHER))])
    rows.append(back_cancel_row())
    return rows


def danger_rows() -> Rows:
    return [
        [button(_("danger.yes"), PickDanger(answer=Danger.YES))],
        [button(_("danger.no"), PickDanger(answer=Danger.NO))],
        [button(_("danger.not_sure"), PickDanger(answer=Danger.NOT_SURE))],
        back_cancel_row(),
    ]


def handler_rows() -> Rows:
    return [
        [button(_("handler.none"), PickHandler(code=NO_HANDLER))],
        [button(_("handler.union"), PickHandler(code=InvolvedHandler.UNION))],
        [button(_("handler.discipline"), PickHandler(code=InvolvedHandler.DISCIPLINE))],
        back_cancel_row(),
    ]


def route_rows() -> Rows:
    return [
        [button(_("handler.route_union"), PickRoute(code=HandlerRoute.UNION))],
        [button(_("handler.route_overseer"), PickRoute(code=HandlerRoute.OVERSEER))],
        back_cancel_row(),
    ]


def department_rows(departments: list[str]) -> Rows:
    rows = [[button(_("department.prefer_not"), PickDepartment(index=-1))]]
    rows += [[button(name, PickDepartment(index=i))] for i, name in enumerate(departments)]
    rows.append(back_cancel_row())
    return rows


def writing_rows() -> Rows:
    return [[button(_("button.done"), Nav(action=Action.DONE))], back_cancel_row()]


def review_rows() -> Rows:
    return [
        [button(_("button.confirm"), Nav(action=Action.CONFIRM))],
        [button(_("button.edit"), Nav(action=Action.EDIT))],
        back_cancel_row(),
    ]


def receipt_rows() -> Rows:
    return [[button(_("button.saved"), Nav(action=Action.SAVED))], back_cancel_row()]


def notify_rows() -> Rows:
    return [
        [button(_("notify.full"), PickNotify(level=NotifyLevel.FULL))],
        [button(_("notify.status_only"), PickNotify(level=NotifyLevel.STATUS_ONLY))],
        [button(_("notify.off"), PickNotify(level=NotifyLevel.OFF))],
    ]


def step_rows(step: str | None, conversation: Conversation, departments: list[str]) -> Rows | None:
    """The buttons of the report step `step`; None when it is not a report step."""
    if step == ReportFlow.category.state:
        group = group_by_code(conversation.group or "")
        # A draft saved before the group was remembered: offer the groups again.
        return category_rows(group) if group else group_rows()
    if step == ReportFlow.department.state:
        return department_rows(departments)
    plain = {
        ReportFlow.group.state: group_rows,
        ReportFlow.danger.state: danger_rows,
        ReportFlow.handler.state: handler_rows,
        ReportFlow.handler_route.state: route_rows,
        ReportFlow.writing.state: writing_rows,
        ReportFlow.review.state: review_rows,
        ReportFlow.receipt.state: receipt_rows,
        ReportFlow.notify.state: notify_rows,
    }.get(step or "")
    return plain() if plain else None
