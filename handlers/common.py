"""What every conversation shares: callback data, keyboards, and safe sending of user text."""

from __future__ import annotations

import datetime as dt
import html
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from cases.danger import Danger

# Telegram counts message length in UTF-16 code units after entity parsing.
TELEGRAM_LIMIT = 4096
# Room for a header line and markup around each chunk of echoed user text.
CHUNK = 3500


class Action(StrEnum):
    NEW = "new"
    STATUS = "status"
    HELP = "help"
    CANCEL = "cancel"
    BACK = "back"
    DONE = "done"
    CONFIRM = "confirm"
    EDIT = "edit"
    SAVED = "saved"
    LANGUAGE = "lang"
    PRIVACY = "privacy"
    MENU = "menu"
    REPLY = "reply"
    NOTIFY = "notify"
    KEEP = "keep"
    START = "start"


class Nav(CallbackData, prefix="n1"):
    """A navigation button. Labels never go into callback data (64-byte limit, Chinese text)."""

    action: Action


class Discard(CallbackData, prefix="x1"):
    """Discard the draft in progress, then do `then` (new report, status, start, menu)."""

    then: Action


class PickGroup(CallbackData, prefix="g1"):
    code: str


class PickCategory(CallbackData, prefix="c1"):
    code: str


class PickNotify(CallbackData, prefix="t1"):
    level: str


class PickDanger(CallbackData, prefix="u1"):
    """Is anyone in danger right now: yes, no or not sure."""

    answer: Danger


class PickHandler(CallbackData, prefix="h1"):
    """Does the report involve someone who handles reports: none, union or discipline."""

    code: str


class PickRoute(CallbackData, prefix="r1"):
    """Where a report about discipline staff goes: the union queue or the overseer."""

    code: str


class PickDepartment(CallbackData, prefix="d1"):
    """An index into the configured departments; -1 is "prefer not to say"."""

    index: int


class PickLanguage(CallbackData, prefix="l1"):
    code: str


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def keyboard(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])


def menu_keyboard() -> InlineKeyboardMarkup:
    return keyboard(
        [button(_("menu.new_report"), Nav(action=Action.NEW))],
        [button(_("menu.check_status"), Nav(action=Action.STATUS))],
        [
            button(_("menu.language"), Nav(action=Action.LANGUAGE)),
            button(_("menu.privacy"), Nav(action=Action.PRIVACY)),
        ],
        [button(_("menu.help"), Nav(action=Action.HELP))],
    )


def back_cancel_row() -> list[InlineKeyboardButton]:
    return [button(_("button.back"), Nav(action=Action.BACK)), *cancel_row()]


def cancel_row() -> list[InlineKeyboardButton]:
    return [button(_("button.cancel"), Nav(action=Action.CANCEL))]


def duration_text(span: dt.timedelta) -> str:
    """A draft's lifetime in words: "2 hours", or minutes when it is not whole hours."""
    minutes = int(span.total_seconds() // 60)
    if minutes == 60:
        return _("duration.hour")
    if minutes and minutes % 60 == 0:
        return _("duration.hours").format(count=minutes // 60)
    return _("duration.minutes").format(count=minutes)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = CHUNK) -> list[str]:
    """Split plain text into chunks of at most `limit` UTF-16 units, preferring line breaks."""
    chunks: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        # Find the longest prefix within the limit, then back off to a newline if there is one.
        cut, size = 0, 0
        for i, ch in enumerate(rest):
            size += 2 if ord(ch) > 0xFFFF else 1
            if size > limit:
                break
            cut = i + 1
        newline = rest.rfind("\n", 0, cut)
        if newline > cut // 2:
            cut = newline + 1
        chunks.append(rest[:cut])
        rest = rest[cut:]
    if rest or not chunks:
        chunks.append(rest)
    return chunks


def quote(text: str) -> str:
    """User text made safe for parse_mode=HTML."""
    return html.escape(text, quote=False)


async def echo_user_text(message: Message, header: str, text: str) -> list[int]:
    """Show user text back in parts that Telegram accepts; returns the sent message ids."""
    parts = split_text(text)
    sent: list[int] = []
    for index, part in enumerate(parts, start=1):
        label = header if len(parts) == 1 else f"{header} ({index}/{len(parts)})"
        reply = await message.answer(f"<b>{label}</b>\n\n{quote(part)}")
        sent.append(reply.message_id)
    return sent
