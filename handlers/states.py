"""Conversation states and the typed data kept with them.

The data lives in aiogram's FSM storage for the length of one conversation and expires; it is
never written to the database.
"""

from __future__ import annotations

import contextlib

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from pydantic import BaseModel, Field

from cases.danger import Danger


class ReportFlow(StatesGroup):
    group = State()
    category = State()
    danger = State()
    handler = State()
    handler_route = State()
    department = State()
    writing = State()
    review = State()
    receipt = State()
    notify = State()


# The steps of a report that is not committed yet: leaving one of them loses the draft.
DRAFTING = frozenset(
    s.state
    for s in (
        ReportFlow.group,
        ReportFlow.category,
        ReportFlow.danger,
        ReportFlow.handler,
        ReportFlow.handler_route,
        ReportFlow.department,
        ReportFlow.writing,
        ReportFlow.review,
        ReportFlow.receipt,
    )
)


class StatusFlow(StatesGroup):
    receipt = State()
    viewing = State()
    replying = State()


class Conversation(BaseModel):
    """Everything one conversation remembers."""

    lang: str | None = None
    # The group whose kinds were listed (None when "not sure" was chosen among the groups).
    group: str | None = None
    category: str | None = None
    # Is anyone in danger right now (None until answered); "yes" makes the case urgent.
    danger: Danger | None = None
    # Who the report involves among those who handle reports ("union" / "discipline"), and
    # where the reporter asked it to go instead ("union" / "discipline" / "overseer").
    involves_handler: str | None = None
    handler_route: str | None = None
    # An index into the configured departments; None is "prefer not to say".
    department: int | None = None
    parts: list[str] = Field(default_factory=list)
    # Cleaned attachments: (renamed file name, mime type, base64 content). The whole FSM data
    # is sealed with the draft key by the storage, so these are never at rest in the clear.
    attachments: list[tuple[str, str, str]] = Field(default_factory=list)
    media_groups: list[str] = Field(default_factory=list)
    forwarded_warned: bool = False
    receipt: str | None = None
    case_id: str | None = None
    reference: str | None = None
    reporter_seed: str | None = None
    # The bot's own messages that showed the receipt or echoed the report (or the department):
    # deleted as soon as the case is committed, or when the draft is abandoned.
    sensitive_ids: list[int] = Field(default_factory=list)
    # The message showing the receipt not yet committed, so Back can remove exactly that one.
    receipt_message_id: int | None = None
    # Check status: the receipt digits while the reporter views or answers (sealed storage).
    status_receipt: str | None = None

    @property
    def text(self) -> str:
        return "\n\n".join(self.parts)

    @property
    def has_writing(self) -> bool:
        """Something the reporter wrote or attached, which starting over would lose."""
        return bool(self.parts or self.attachments)


async def load(state: FSMContext) -> Conversation:
    return Conversation.model_validate(await state.get_data())


async def save(state: FSMContext, conversation: Conversation) -> None:
    await state.set_data(conversation.model_dump())


async def reset(state: FSMContext) -> None:
    """Forget the conversation but keep the language the reporter chose."""
    lang = (await load(state)).lang
    await state.clear()
    if lang:
        await save(state, Conversation(lang=lang))


async def delete_messages(bot: Bot, chat_id: int, message_ids: list[int]) -> None:
    """Delete the bot's own messages; ones already gone (or older than 48 h) are skipped."""
    for start in range(0, len(message_ids), 100):  # deleteMessages takes at most 100 ids
        with contextlib.suppress(TelegramBadRequest):
            await bot.delete_messages(chat_id, message_ids[start : start + 100])


async def discard(state: FSMContext, bot: Bot, chat_id: int) -> list[int]:
    """Forget the conversation and delete what it showed of the report; returns those ids.

    Every path that abandons a draft comes through here, so an echo of the report or an unused
    receipt never stays on the reporter's screen after the draft is gone.
    """
    shown = (await load(state)).sensitive_ids
    await delete_messages(bot, chat_id, shown)
    await reset(state)
    return shown
