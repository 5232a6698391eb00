"""A fake Telegram Bot API server on loopback, plus a user-side driver, for tests and the demo.

The real ``aiogram.Bot`` talks to it over HTTP (``TelegramAPIServer.from_base(base_url)``),
so the whole client stack is exercised. It refuses what Telegram refuses (see
:mod:`bot.devtools.fake_html` for the content rules) so that such bugs fail tests instead
of surfacing in production. Nothing here logs or prints message contents.

The server lives here; its parts are :mod:`~bot.devtools.fake_types` (data types, parameter
parsing), :mod:`~bot.devtools.fake_messages`, :mod:`~bot.devtools.fake_bot_methods` and
:mod:`~bot.devtools.fake_webhook` (the Bot API method handlers and webhook delivery, mixed in)
and :mod:`~bot.devtools.fake_users` (the user-side driver). The public names are re-exported
from this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bot.devtools.fake_bot_methods import BotMethods
from bot.devtools.fake_files import FileMethods, StoredFile
from bot.devtools.fake_html import ContentRefused
from bot.devtools.fake_messages import MessageMethods
from bot.devtools.fake_types import (
    ChatEntry,
    JsonObj,
    RecordedCall,
    _ApiError,
    _Chat,
    _Fault,
    _Params,
    _read_params,
)
from bot.devtools.fake_users import FakeGroup, FakeUser
from bot.devtools.fake_webhook import WebhookDelivery, WebhookMethods

__all__ = [
    "ChatEntry",
    "FakeBotAPI",
    "FakeGroup",
    "FakeUser",
    "JsonObj",
    "RecordedCall",
    "StoredFile",
    "WebhookDelivery",
]


class FakeBotAPI(MessageMethods, BotMethods, FileMethods, WebhookMethods):
    """The fake server. Create users/groups, run the bot against ``base_url``, inspect chats.

    With ``enforce_limits`` sends are refused with 429 above ``global_per_second`` in any
    1 s window, or above ``per_chat_per_second`` to a single chat.
    """

    def __init__(
        self,
        token: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        enforce_limits: bool = False,
        global_per_second: int = 30,
        per_chat_per_second: float = 1.0,
    ) -> None:
        self.token, self.host, self.port = token, host, port
        self.enforce_limits = enforce_limits
        self.global_per_second, self.per_chat_per_second = global_per_second, per_chat_per_second
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 1
        self.bot_username = "speakup_test_bot"
        self.base_url = ""
        self._init_webhook()
        self.requests: list[RecordedCall] = []
        self.rejections: list[RecordedCall] = []
        self.commands: dict[tuple[str, str], list[JsonObj]] = {}  # (scope JSON, language)
        self._chats: dict[int, _Chat] = {}
        self._updates: list[JsonObj] = []  # unconfirmed, in update_id order
        self._redeliver: list[JsonObj] = []  # duplicates handed out regardless of offset
        self._update_ids = itertools.count(1)
        self._sequence = itertools.count(1)  # global: message ids and edit sequence numbers
        self._query_ids = itertools.count(4_000_000_001)
        self._open_queries: set[str] = set()
        self._answered: set[str] = set()
        self._faults: list[_Fault] = []
        self._files: dict[str, StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._sends: list[tuple[float, int]] = []  # (monotonic time, chat id) for rate limits
        # Broadcast events: replaced after each set() so waiters never miss a wake-up.
        self._updates_event = asyncio.Event()
        self._bot_event = asyncio.Event()
        self._poll_generation = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._handlers: dict[str, Callable[[_Params], Awaitable[Any]]] = {
            name.removeprefix("_m_"): getattr(self, name) for name in dir(self) if name[:3] == "_m_"
        }

    async def start(self) -> None:
        """Bind the HTTP server; ``base_url`` is valid afterwards."""
        self._closing = False
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        # No access log: request paths contain the bot token.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = self._runner.addresses[0][1]
        self.base_url = f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        """Release long-polls and shut the server down."""
        self._closing = True
        self._wake_pollers()
        await self._stop_webhook()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ----------------------------------------------------------------- test-side set-up

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
    ) -> FakeUser:
        """A Telegram user with a private chat (chat id == user id).

        As on Telegram, the bot may only message the user after the user wrote to it
        (otherwise 403 "Forbidden: bot can't initiate conversation with a user").
        """
        data = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "last_name": last_name,
            "username": username,
            "language_code": language_code,
        }
        data = {k: v for k, v in data.items() if v is not None}
        chat = {k: v for k, v in data.items() if k in ("first_name", "last_name", "username")}
        self._chats.setdefault(
            user_id, _Chat({"id": user_id, "type": "private", **chat}, started=False)
        )
        return FakeUser(self, data)

    def group(self, chat_id: int, title: str) -> FakeGroup:
        """A basic group the bot is a member of."""
        self._chats.setdefault(chat_id, _Chat({"id": chat_id, "type": "group", "title": title}))
        return FakeGroup(self, chat_id)

    def migrate_to_supergroup(self, chat_id: int, new_chat_id: int) -> None:
        """Upgrade a group: later calls for ``chat_id`` fail with ``migrate_to_chat_id``."""
        old = self._chats[chat_id]
        old.migrated_to = new_chat_id
        self._chats[new_chat_id] = _Chat({**old.data, "id": new_chat_id, "type": "supergroup"})

    def inject_fault(
        self,
        method: str,
        *,
        status: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (optionally for one chat) fail."""
        self._faults.append(
            _Fault(method.lower(), status, description, retry_after, times, chat_id)
        )

    # ------------------------------------------------------------------ inspection

    def upcoming_update_id(self) -> int:
        """The update_id the next update will get."""
        upcoming = next(self._update_ids)
        self._update_ids = itertools.count(upcoming)
        return upcoming

    def chat(self, chat_id: int) -> list[ChatEntry]:
        """Every message of the chat (user's and bot's) in sending order, current versions."""
        chat = self._chats.get(chat_id)
        return list(chat.messages.values()) if chat else []

    def bot_messages(self, chat_id: int) -> list[ChatEntry]:
        """The bot's messages in the chat, deleted ones included (``deleted`` flag)."""
        return [e for e in self.chat(chat_id) if e.from_bot]

    async def wait_for_bot_message(
        self,
        chat_id: int,
        predicate: Callable[[ChatEntry], bool] | None = None,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - part of the public API the e2e tests use
        after: int = 0,
    ) -> ChatEntry:
        """First bot message sent or edited after ``after`` (a sequence or message id).

        Raises ``TimeoutError`` carrying the chat transcript.
        """
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            event = self._bot_event
            found = sorted(
                (
                    e
                    for e in self.bot_messages(chat_id)
                    if e.sequence > after and (predicate is None or predicate(e))
                ),
                key=lambda e: e.sequence,
            )
            if found:
                return found[0]
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(
                    f"no matching bot message in chat {chat_id} after {after} within "
                    f"{timeout}s; transcript:\n{self.transcript(chat_id)}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def transcript(self, chat_id: int) -> str:
        """Human-readable chat log for the demo and for failure messages."""
        lines = []
        for e in self.chat(chat_id):
            who = "🤖 Bot" if e.from_bot else f"👤 {e.from_name}"
            marks = "".join(
                m for m, on in ((" (edited)", e.edited), (" (deleted)", e.deleted)) if on
            )
            lines.append(f"{who}{marks}: " + e.text.replace("\n", "\n    "))
            lines.extend(
                "    [buttons: " + " | ".join(t for t, _ in row) + "]" for row in e.buttons
            )
        return "\n".join(lines)

    # ------------------------------------------------------------------ HTTP handling

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        chat_id: int | None = None
        try:
            if request.match_info["token"] != self.token:
                raise _ApiError(401, "Unauthorized")
            handler = self._handlers.get(method.lower())
            if handler is None:
                raise _ApiError(404, "Not Found: method not found")
            params = await _read_params(request)
            with contextlib.suppress(_ApiError):
                chat_id = params.integer("chat_id")
            self._apply_fault(method, chat_id)
            try:
                result = await handler(params)
            except ContentRefused as e:
                raise _ApiError(400, e.description) from None
            except (TypeError, ValueError, KeyError, AttributeError) as e:
                # Malformed parameters (wrong JSON shapes and the like): Telegram answers 400.
                raise _ApiError(
                    400, f"Bad Request: malformed parameters ({type(e).__name__})"
                ) from e
        except _ApiError as e:
            call = RecordedCall(method, time.monotonic(), chat_id, False, e.status, e.description)
            self.requests.append(call)
            if e.status == 400 and not e.injected:
                self.rejections.append(call)
            body: JsonObj = {"ok": False, "error_code": e.status, "description": e.description}
            if e.parameters:
                body["parameters"] = e.parameters
            return web.json_response(body, status=e.status)
        self.requests.append(RecordedCall(method, time.monotonic(), chat_id, True))
        return web.json_response({"ok": True, "result": result})

    def _apply_fault(self, method: str, chat_id: int | None) -> None:
        for fault in self._faults:
            if fault.method == method.lower() and fault.chat_id in (None, chat_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                params = {"retry_after": fault.retry_after} if fault.retry_after else None
                raise _ApiError(fault.status, fault.description, params, injected=True)

    def _chat_for(self, p: _Params, *, sending: bool = False) -> _Chat:
        if p.raw.get("chat_id") in (None, ""):
            raise _ApiError(400, "Bad Request: chat_id is empty")
        try:
            chat = self._chats.get(int(p.raw["chat_id"]))
        except (TypeError, ValueError):
            chat = None  # "@username" of a chat the fake does not know
        if chat is None:
            raise _ApiError(400, "Bad Request: chat not found")
        if chat.migrated_to is not None:
            raise _ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if sending and chat.blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        if sending and not chat.started:
            raise _ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def _check_rate(self, chat_id: int) -> None:
        if not self.enforce_limits:
            return
        now = time.monotonic()
        # Below one message per second per chat the window stretches (0.5/s: 1 per 2 s).
        chat_window = max(1.0, 1.0 / self.per_chat_per_second)
        self._sends = [(t, c) for t, c in self._sends if now - t < chat_window]
        recent = [t for t, _ in self._sends if now - t < 1.0]
        in_chat = [t for t, c in self._sends if c == chat_id]
        wait = 0.0
        if len(recent) >= self.global_per_second:
            wait = 1.0 - (now - recent[0])
        if len(in_chat) >= max(1, int(self.per_chat_per_second * chat_window)):
            wait = max(wait, chat_window - (now - in_chat[0]))
        if wait > 0:
            retry = max(1, math.ceil(wait))
            raise _ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        self._sends.append((now, chat_id))

    def _message_json(self, entry: ChatEntry) -> JsonObj:
        msg: JsonObj = {
            "message_id": entry.message_id,
            "date": entry.date,
            "chat": self._chats[entry.chat_id].data,
            "from": self._bot_user(),
            "text": entry.text,
        }
        if entry.entities:
            msg["entities"] = entry.entities
        if entry.reply_markup and "inline_keyboard" in entry.reply_markup:
            msg["reply_markup"] = entry.reply_markup  # Telegram echoes inline keyboards only
        if entry.edited:
            msg["edit_date"] = int(time.time())
        return msg

    def _bot_user(self) -> JsonObj:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "SpeakUp Test",
            "username": self.bot_username,
        }

    def _store(self, chat: _Chat, entry: ChatEntry) -> None:
        chat.messages[entry.message_id] = entry
        if entry.from_bot:
            self._bot_event.set()
            self._bot_event = asyncio.Event()

    def _wake_pollers(self) -> None:
        self._updates_event.set()
        self._updates_event = asyncio.Event()

    def _enqueue(self, payload: JsonObj) -> JsonObj:
        update = {"update_id": next(self._update_ids), **payload}
        self._updates.append(update)
        self._wake_pollers()
        return update

    def _user_message(self, chat_id: int, sender: JsonObj, fields: JsonObj) -> JsonObj:
        """Record a user's message in the chat and enqueue it as an update."""
        chat = self._chats[chat_id]
        chat.started = True
        mid = next(self._sequence)
        msg = {
            "message_id": mid,
            "date": int(time.time()),
            "chat": chat.data,
            "from": sender,
            **fields,
        }
        shown = fields.get("text") or fields.get("caption") or f"[{', '.join(fields)}]"
        entry = ChatEntry(
            sequence=mid,
            message_id=mid,
            chat_id=chat_id,
            from_bot=False,
            text=shown,
            raw_text=shown,
            parse_mode=None,
            reply_markup=None,
            buttons=[],
            date=msg["date"],
            from_name=sender["first_name"],
        )
        self._store(chat, entry)
        return self._enqueue({"message": msg})
