"""Bot API methods of the fake server other than messages and webhooks: bot, updates, commands,
chats."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING

from bot.devtools.fake_types import JsonObj, _ApiError, _Chat, _Params

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class BotMethods:
    """getMe, getUpdates, callback answers, commands and chat methods of FakeBotAPI."""

    if TYPE_CHECKING:  # provided by FakeBotAPI
        webhook_url: str
        commands: dict[tuple[str, str], list[JsonObj]]
        _updates: list[JsonObj]
        _redeliver: list[JsonObj]
        _open_queries: set[str]
        _answered: set[str]
        _poll_generation: int
        _closing: bool
        _updates_event: asyncio.Event

        def _chat_for(self, p: _Params, *, sending: bool = False) -> _Chat: ...
        def _bot_user(self) -> JsonObj: ...
        def _wake_pollers(self) -> None: ...

    async def _m_getme(self, p: _Params) -> JsonObj:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_getupdates(self, p: _Params) -> list[JsonObj]:
        if self.webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset, limit = p.integer("offset") or 0, min(max(p.integer("limit") or 100, 1), 100)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(p.integer("timeout") or 0, 0)
        # A newer getUpdates terminates an older waiting one, as on Telegram.
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()
        while True:
            if generation != self._poll_generation:
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure "
                    "that only one bot instance is running",
                )
            if offset > 0:  # confirms every update below the offset
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            repeats, self._redeliver = self._redeliver[:limit], self._redeliver[limit:]
            batch = repeats + self._updates[: limit - len(repeats)]
            if batch or self._closing or loop.time() >= deadline:
                return batch
            event = self._updates_event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), deadline - loop.time())

    async def _m_answercallbackquery(self, p: _Params) -> bool:
        query_id = p.text("callback_query_id") or ""
        if query_id not in self._open_queries:
            raise _ApiError(400, _QUERY_INVALID)
        self._open_queries.discard(query_id)
        self._answered.add(query_id)
        return True

    def _commands_key(self, p: _Params) -> tuple[str, str]:
        scope = p.obj("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), p.text("language_code") or ""

    async def _m_setmycommands(self, p: _Params) -> bool:
        commands = p.obj("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _ApiError(400, "Bad Request: commands must be a list of at most 100 commands")
        for c in commands:
            name, about = str(c.get("command", "")), str(c.get("description", ""))
            if not 1 <= len(name) <= 32 or not set(name) <= _COMMAND_CHARS:
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(about) <= 256:
                raise _ApiError(400, "Bad Request: command description must be 1-256 characters")
        self.commands[self._commands_key(p)] = commands
        return True

    async def _m_getmycommands(self, p: _Params) -> list[JsonObj]:
        return self.commands.get(self._commands_key(p), [])

    async def _m_deletemycommands(self, p: _Params) -> bool:
        self.commands.pop(self._commands_key(p), None)
        return True

    async def _m_sendchataction(self, p: _Params) -> bool:
        self._chat_for(p, sending=True)
        if p.text("action") not in _CHAT_ACTIONS:
            raise _ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def _m_getchat(self, p: _Params) -> JsonObj:
        chat = self._chat_for(p)
        return {
            **chat.data,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _m_close(self, p: _Params) -> bool:
        return True

    async def _m_logout(self, p: _Params) -> bool:
        return True
