"""New report, the description step: photos and documents, downloaded and cleaned, never forwarded.

The bot fetches the file into memory (`bot.download` into a buffer; nothing is written to
disk), cleans it (`cases.cleaning`: metadata out, a neutral name) and keeps it in the draft,
which the FSM storage seals with the draft key. Albums arrive as one update per item with a
shared `media_group_id`; each item joins the same draft and the reporter is answered once.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramNetworkError
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from cases.cleaning import TELEGRAM_DOWNLOAD_LIMIT, AttachmentRefused, Refusal, clean
from cases.intake import Attachment
from handlers.common import keyboard
from handlers.report_steps import writing_rows
from handlers.report_writing import caption_notice, keep_caption
from handlers.states import Conversation, load, save
from handlers.states import ReportFlow as Flow

MB = 1024 * 1024


@dataclass(frozen=True)
class AttachmentLimits:
    """Per file (capped at what Telegram lets bots download), per report, and in total."""

    max_bytes: int = TELEGRAM_DOWNLOAD_LIMIT
    per_report: int = 10
    total_bytes: int = 50 * MB

    @classmethod
    def from_megabytes(cls, per_file: int, per_report: int, total: int) -> AttachmentLimits:
        return cls(min(per_file * MB, TELEGRAM_DOWNLOAD_LIMIT), per_report, total * MB)


class CleaningPool:
    """Cleans files in worker threads, at most `concurrency` at a time.

    Re-encoding a photo of up to 50 megapixels takes CPU and hundreds of MB; unbounded, a burst
    of albums would fill the default thread pool that Argon2 (receipts, commits) also uses and
    stall every chat. Built by the composition root from `SPEAKUP_CLEANING_CONCURRENCY`.
    """

    def __init__(self, concurrency: int = 2) -> None:
        if concurrency < 1:
            raise ValueError("cleaning concurrency must be at least 1")
        self._semaphore = asyncio.Semaphore(concurrency)

    async def clean(self, content: bytes, number: int, *, max_bytes: int) -> Attachment:
        async with self._semaphore:
            return await asyncio.to_thread(clean, content, number, max_bytes=max_bytes)


def _file_of(message: Message) -> tuple[str, int | None]:
    """The file to fetch: the largest size of a photo, or the document."""
    if message.photo:
        largest = max(message.photo, key=lambda p: p.width * p.height)
        return largest.file_id, largest.file_size
    if message.document is None:  # the filter admits photos and documents only
        raise AttachmentRefused(Refusal.TYPE)
    return message.document.file_id, message.document.file_size


def _stored_bytes(conversation: Conversation) -> int:
    return sum(len(content) * 3 // 4 for _, _, content in conversation.attachments)


async def _fetch(bot: Bot, file_id: str, limits: AttachmentLimits) -> bytes:
    try:
        buffer = await bot.download(file_id, timeout=120)
    except TelegramBadRequest as exc:
        # Telegram answers getFile for files over 20 MB with "file is too big".
        if "too big" in exc.message:
            raise AttachmentRefused(Refusal.TOO_BIG) from exc
        raise
    if buffer is None:  # never: without a destination aiogram returns a BytesIO
        raise AttachmentRefused(Refusal.DAMAGED)
    content = buffer.read(limits.max_bytes + 1)
    if len(content) > limits.max_bytes:
        raise AttachmentRefused(Refusal.TOO_BIG)
    return content


async def add_file(
    message: Message,
    state: FSMContext,
    bot: Bot,
    attachment_limits: AttachmentLimits,
    cleaning: CleaningPool,
) -> None:
    conversation = await load(state)
    limits = attachment_limits
    group = message.media_group_id
    first_of_album = group is not None and group not in conversation.media_groups
    try:
        file_id, declared_size = _file_of(message)
        if len(conversation.attachments) >= limits.per_report:
            raise AttachmentRefused(Refusal.TOO_MANY)
        if declared_size is not None and declared_size > limits.max_bytes:
            raise AttachmentRefused(Refusal.TOO_BIG)
        content = await _fetch(bot, file_id, limits)
        if _stored_bytes(conversation) + len(content) > limits.total_bytes:
            raise AttachmentRefused(Refusal.TOO_MANY)
        # Re-encoding is CPU work: off the event loop, so other chats are not kept waiting.
        number = len(conversation.attachments) + 1
        cleaned = await cleaning.clean(content, number, max_bytes=limits.max_bytes)
    except AttachmentRefused as refused:
        limit = limits.max_bytes // MB
        text = _(f"file.refused.{refused.reason.value}").format(
            limit=limit, count=limits.per_report, total=limits.total_bytes // MB
        )
        await _refuse(message, state, conversation, text)
        return
    except (TelegramBadRequest, TelegramNetworkError):
        await _refuse(message, state, conversation, _("file.download_failed"))
        return
    conversation.attachments.append(
        (cleaned.filename, cleaned.mime, base64.b64encode(cleaned.content).decode())
    )
    notice = _notices(conversation, message, file_refused=False)
    if group is not None and first_of_album:
        conversation.media_groups.append(group)
    await save(state, conversation)
    if group is not None and not first_of_album:
        return  # one answer per album; the review screen counts every file
    key = "file.album_added" if group is not None else "file.added"
    reply = _(key).format(name=cleaned.filename, count=len(conversation.attachments))
    await message.answer(notice + reply, reply_markup=keyboard(*writing_rows()))


async def _refuse(
    message: Message, state: FSMContext, conversation: Conversation, text: str
) -> None:
    """The file is not added; its caption is still part of the description, and we say so."""
    notice = _notices(conversation, message, file_refused=True)
    await save(state, conversation)
    await message.answer(
        text + ("\n\n" + notice.rstrip() if notice else ""), reply_markup=keyboard(*writing_rows())
    )


def _notices(conversation: Conversation, message: Message, *, file_refused: bool) -> str:
    """Keep the caption in the description; returns notices for the reply, if any."""
    notice = caption_notice(keep_caption(conversation, message.caption), file_refused=file_refused)
    notice = notice + "\n\n" if notice else ""
    # P9: a forwarded file keeps its content; who sent it first is dropped, and we say why.
    if message.forward_origin is not None and not conversation.forwarded_warned:
        conversation.forwarded_warned = True
        notice += _("forward.warning") + "\n\n"
    return notice


async def not_here(message: Message) -> None:
    """A photo, file or sticker at a step that takes buttons or a receipt: nothing changes."""
    await message.answer(_("media.not_here"))


def build() -> Router:
    """Photos and documents while writing; included before the writing step's catch-all."""
    router = Router(name="report_files")
    router.message.register(add_file, Flow.writing, F.photo | F.document)
    return router


def build_elsewhere() -> Router:
    """Non-text input in any other step of a conversation (text has its own handlers)."""
    router = Router(name="media_elsewhere")
    router.message.register(not_here, ~F.text, _in_a_step)
    return router


async def _in_a_step(message: Message, state: FSMContext) -> bool:
    return await state.get_state() is not None
