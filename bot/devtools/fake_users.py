"""The user-side driver of the fake Bot API: users and groups writing to the bot."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.devtools.fake_html import utf16_len
from bot.devtools.fake_types import JsonObj

if TYPE_CHECKING:
    from bot.devtools.fake_bot_api import FakeBotAPI


class FakeUser:
    """Drives one user's side of a private chat with the bot."""

    def __init__(self, api: FakeBotAPI, data: JsonObj) -> None:
        self._api, self.data = api, data
        self.user_id: int = data["id"]
        self.chat_id: int = data["id"]
        self._last_update: JsonObj | None = None
        self._messages: dict[int, JsonObj] = {}

    @property
    def blocked(self) -> bool:
        """Whether the user blocked the bot (sends then fail with 403)."""
        return self._api._chats[self.chat_id].blocked

    @blocked.setter
    def blocked(self, value: bool) -> None:
        self._api._chats[self.chat_id].blocked = value

    async def send_text(self, text: str) -> int:
        """Send a text message (a leading /command gets its bot_command entity)."""
        return await self.send_message(text=text, **_command_entities(text))

    async def send_message(self, **fields: Any) -> int:
        """Send a message with arbitrary Message fields (photo, sticker, caption, …)."""
        self._last_update = self._api._user_message(self.chat_id, self.data, fields)
        msg: JsonObj = self._last_update["message"]
        self._messages[msg["message_id"]] = msg
        return int(msg["message_id"])

    async def send_photo(
        self,
        content: bytes,
        *,
        caption: str | None = None,
        media_group_id: str | None = None,
        width: int = 1280,
        height: int = 960,
    ) -> int:
        """Send a photo with the given bytes (the bot can getFile and download them)."""
        stored = self._api.add_file(content, "jpg")
        size = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": width,
            "height": height,
            "file_size": len(content),
        }
        return await self.send_message(photo=[size], **_media_extras(caption, media_group_id))

    async def send_document(
        self,
        content: bytes,
        file_name: str,
        mime_type: str = "application/octet-stream",
        *,
        caption: str | None = None,
        media_group_id: str | None = None,
    ) -> int:
        """Send a file as a document, with the name and type the user's phone gives it."""
        stored = self._api.add_file(content, file_name.rsplit(".", 1)[-1] or "bin")
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(content),
        }
        return await self.send_message(document=document, **_media_extras(caption, media_group_id))

    async def edit_text(self, message_id: int, new_text: str) -> None:
        """Edit one of this user's messages, producing an ``edited_message`` update."""
        msg = {**self._messages[message_id], "text": new_text, "edit_date": int(time.time())}
        msg.pop("entities", None)
        msg.update(_command_entities(new_text))
        self._messages[message_id] = msg
        chat = self._api._chats[self.chat_id]
        old = chat.messages[message_id]
        self._api._store(
            chat,
            replace(
                old,
                sequence=next(self._api._sequence),
                text=new_text,
                raw_text=new_text,
                edited=True,
            ),
        )
        self._last_update = self._api._enqueue({"edited_message": msg})

    async def press(self, button_text: str, *, message_id: int | None = None) -> str:
        """Press the inline button labelled ``button_text``; return the callback query id.

        Looks at ``message_id`` or else the latest undeleted bot message having that button.
        """
        entries = self._api.bot_messages(self.chat_id)
        if message_id is not None:
            entries = [e for e in entries if e.message_id == message_id]
        for entry in reversed([e for e in entries if not e.deleted]):
            for label, data in (b for row in entry.buttons for b in row):
                if label == button_text:
                    if not data:
                        raise LookupError(f"button {button_text!r} has no callback_data")
                    return await self.press_data(data, entry.message_id)
        raise LookupError(
            f"no inline button {button_text!r} in chat {self.chat_id}; transcript:\n"
            + self._api.transcript(self.chat_id)
        )

    async def press_data(self, callback_data: str, message_id: int) -> str:
        """Send a callback query with raw ``callback_data`` for the bot message ``message_id``."""
        entry = self._api._chats[self.chat_id].messages.get(message_id)
        if entry is None or not entry.from_bot or entry.deleted:
            raise LookupError(f"no bot message {message_id} in chat {self.chat_id}")
        query_id = str(next(self._api._query_ids))
        self._api._open_queries.add(query_id)
        self._last_update = self._api._enqueue(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.data,
                    "message": self._api._message_json(entry),
                    "chat_instance": f"{self.chat_id}0",
                    "data": callback_data,
                }
            }
        )
        return query_id

    def answered(self, callback_query_id: str) -> bool:
        """Whether the bot answered that callback query."""
        return callback_query_id in self._api._answered

    def resend_last_update(self) -> None:
        """Deliver this user's last update again, same ``update_id`` (duplicate delivery)."""
        if self._last_update is None:
            raise LookupError("this user has produced no update yet")
        self._api._redeliver.append(self._last_update)
        self._api._wake_pollers()


class FakeGroup:
    """Drives users' messages in a group chat the bot is in."""

    def __init__(self, api: FakeBotAPI, chat_id: int) -> None:
        self._api, self.chat_id = api, chat_id

    async def send_text(self, user: FakeUser, text: str) -> int:
        """``user`` writes ``text`` in the group; returns the message id."""
        update = self._api._user_message(
            self.chat_id, user.data, {"text": text, **_command_entities(text)}
        )
        return int(update["message"]["message_id"])


def _command_entities(text: str) -> JsonObj:
    if not text.startswith("/"):
        return {}
    command = text.split(maxsplit=1)[0]
    return {"entities": [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]}


def _media_extras(caption: str | None, media_group_id: str | None) -> JsonObj:
    extras: JsonObj = {}
    if caption is not None:
        extras["caption"] = caption
    if media_group_id is not None:
        extras["media_group_id"] = media_group_id
    return extras
