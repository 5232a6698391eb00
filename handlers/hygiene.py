"""Input that would identify the reporter is refused at every step, and the step is kept.

Contacts carry a phone number, locations a place, voice messages and video notes a voice or a
face: none of that is read or stored (P9). The conversation state does not change, so the
reporter continues where they were.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _


async def refuse_contact(message: Message) -> None:
    await message.answer(_("refuse.contact"))


async def refuse_location(message: Message) -> None:
    await message.answer(_("refuse.location"))


async def refuse_voice(message: Message) -> None:
    await message.answer(_("refuse.voice"))


async def refuse_video_note(message: Message) -> None:
    await message.answer(_("refuse.video_note"))


def build() -> Router:
    """Refusals; included before the conversations so no step ever reads such input."""
    router = Router(name="hygiene")
    router.message.register(refuse_contact, F.contact)
    router.message.register(refuse_location, F.location | F.venue)
    router.message.register(refuse_voice, F.voice)
    router.message.register(refuse_video_note, F.video_note)
    return router
