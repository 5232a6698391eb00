"""Conversation states and the typed data kept with them.

The data lives in aiogram's FSM storage for the length of one conversation and expires; it is
never written to the database.
"""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from pydantic import BaseModel, Field


class ReportFlow(StatesGroup):
    group = State()
    category = State()
    handler = State()
    handler_route = State()
    department = State()
    writing = State()
    review = State()
    receipt = State()
    notify = State()


class StatusFlow(StatesGroup):
    receipt = State()
    viewing = State()
    replying = State()


class Conversation(BaseModel):
    """Everything one conversation remembers."""

    lang: str | None = None
    category: str | None = None
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
    # The bot's own messages that showed the receipt or echoed the report, deleted at the end.
    sensitive_ids: list[int] = Field(default_factory=list)
    # Check status: the receipt digits while the reporter views or answers (sealed storage).
    status_receipt: str | None = None

    @property
    def text(self) -> str:
        return "\n\n".join(self.parts)


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
