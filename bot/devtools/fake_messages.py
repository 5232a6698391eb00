"""Bot API message methods of the fake server: sending, editing and deleting messages."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.devtools.fake_html import Rendered, inline_buttons, render_text
from bot.devtools.fake_types import ChatEntry, JsonObj, _ApiError, _Chat, _Params

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


class MessageMethods:
    """sendMessage, editMessageText/ReplyMarkup and deleteMessage(s), mixed into FakeBotAPI."""

    if TYPE_CHECKING:  # provided by FakeBotAPI
        _sequence: Iterator[int]

        def _chat_for(self, p: _Params, *, sending: bool = False) -> _Chat: ...
        def _check_rate(self, chat_id: int) -> None: ...
        def _store(self, chat: _Chat, entry: ChatEntry) -> None: ...
        def _message_json(self, entry: ChatEntry) -> JsonObj: ...

    async def _m_sendmessage(self, p: _Params) -> JsonObj:
        chat = self._chat_for(p, sending=True)
        rendered = self._render(p)
        markup = p.obj("reply_markup")
        buttons = inline_buttons(markup)
        reply = p.obj("reply_parameters") or {"message_id": p.integer("reply_to_message_id")}
        replied = chat.messages.get(reply.get("message_id") or 0)
        allow_missing = reply.get("allow_sending_without_reply") or p.flag(
            "allow_sending_without_reply"
        )
        if reply.get("message_id") and (replied is None or replied.deleted) and not allow_missing:
            raise _ApiError(400, "Bad Request: message to be replied not found")
        self._check_rate(chat.data["id"])
        mid = next(self._sequence)
        entry = ChatEntry(
            sequence=mid,
            message_id=mid,
            chat_id=chat.data["id"],
            from_bot=True,
            text=rendered.text,
            raw_text=p.text("text") or "",
            parse_mode=p.text("parse_mode"),
            reply_markup=markup,
            buttons=buttons,
            date=int(time.time()),
            entities=rendered.entities,
            from_name="Bot",
        )
        self._store(chat, entry)
        return self._message_json(entry)

    def _render(self, p: _Params) -> Rendered:
        rendered = render_text(p.text("text"), p.text("parse_mode"))
        entities = p.obj("entities")
        if entities and not p.text("parse_mode"):
            rendered.entities = entities  # explicit entities replace parse_mode
        return rendered

    def _own_message(self, chat: _Chat, p: _Params, action: str) -> ChatEntry:
        mid = p.integer("message_id")
        if p.raw.get("inline_message_id") or mid is None:
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        entry = chat.messages.get(mid)
        if entry is None or entry.deleted:
            raise _ApiError(400, f"Bad Request: message to {action} not found")
        if not entry.from_bot:
            raise _ApiError(400, f"Bad Request: message can't be {action}ed")
        return entry

    async def _m_editmessagetext(self, p: _Params) -> JsonObj:
        chat = self._chat_for(p)
        entry = self._own_message(chat, p, "edit")
        rendered = self._render(p)
        return self._edit(
            chat, entry, rendered, p.text("text") or "", p.text("parse_mode"), p.obj("reply_markup")
        )

    async def _m_editmessagereplymarkup(self, p: _Params) -> JsonObj:
        chat = self._chat_for(p)
        entry = self._own_message(chat, p, "edit")
        return self._edit(
            chat,
            entry,
            Rendered(entry.text, entry.entities),
            entry.raw_text,
            entry.parse_mode,
            p.obj("reply_markup"),
        )

    def _edit(
        self,
        chat: _Chat,
        entry: ChatEntry,
        rendered: Rendered,
        raw: str,
        parse_mode: str | None,
        markup: JsonObj | None,
    ) -> JsonObj:
        # Omitting reply_markup in an edit removes the inline keyboard, as on Telegram.
        buttons = inline_buttons(markup)
        if (rendered.text, rendered.entities, markup) == (
            entry.text,
            entry.entities,
            entry.reply_markup,
        ):
            raise _ApiError(400, _NOT_MODIFIED)
        new = replace(
            entry,
            sequence=next(self._sequence),
            text=rendered.text,
            raw_text=raw,
            parse_mode=parse_mode,
            reply_markup=markup,
            buttons=buttons,
            edited=True,
            entities=rendered.entities,
        )
        self._store(chat, new)
        return self._message_json(new)

    def _delete(self, chat: _Chat, mid: int) -> bool:
        entry = chat.messages.get(mid)
        if entry is None or entry.deleted:
            return False
        if not entry.from_bot and chat.data["type"] != "private":
            raise _ApiError(400, "Bad Request: message can't be deleted")  # bot is no admin
        chat.messages[mid] = replace(entry, deleted=True)
        return True

    async def _m_deletemessage(self, p: _Params) -> bool:
        chat = self._chat_for(p)
        if not self._delete(chat, p.integer("message_id") or 0):
            raise _ApiError(400, "Bad Request: message to delete not found")
        return True

    async def _m_deletemessages(self, p: _Params) -> bool:
        chat = self._chat_for(p)
        ids = p.obj("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise _ApiError(400, "Bad Request: message_ids must contain 1-100 identifiers")
        for mid in ids:  # unknown ones are skipped, as on Telegram
            self._delete(chat, int(mid))
        return True
