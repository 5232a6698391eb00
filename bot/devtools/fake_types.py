"""Data types of the fake Bot API: transcript entries, recorded calls, chat state, parameters.

See :mod:`bot.devtools.fake_bot_api` for the server that uses them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "commands",
        "scope",
        "message_ids",
        "reply_parameters",
        "allowed_updates",
    }
)

JsonObj = dict[str, Any]


class _ApiError(Exception):
    """A refusal answered to the bot as ``{"ok": false, ...}``."""

    def __init__(
        self,
        status: int,
        description: str,
        parameters: JsonObj | None = None,
        *,
        injected: bool = False,
    ) -> None:
        super().__init__(description)
        self.status, self.description = status, description
        self.parameters, self.injected = parameters, injected


@dataclass(frozen=True)
class ChatEntry:
    """One message in a chat transcript as a Telegram user would see it.

    ``text`` is the rendered plain text (after HTML/MarkdownV2 parsing) for bot messages;
    ``raw_text`` is what the bot sent. ``sequence`` is a global counter bumped on send and on
    every edit; a message's ``message_id`` equals the sequence it was sent with.
    """

    sequence: int
    message_id: int
    chat_id: int
    from_bot: bool
    text: str
    raw_text: str
    parse_mode: str | None
    reply_markup: JsonObj | None
    buttons: list[list[tuple[str, str]]]
    deleted: bool = False
    edited: bool = False
    date: int = 0
    entities: list[JsonObj] = field(default_factory=list)
    from_name: str = ""


@dataclass(frozen=True)
class RecordedCall:
    """One Bot API call made by the bot and how the fake answered it."""

    method: str
    time: float
    chat_id: int | None
    ok: bool
    error_code: int | None = None
    description: str | None = None


@dataclass
class _Fault:
    method: str
    status: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: int | None


@dataclass
class _Chat:
    data: JsonObj
    messages: dict[int, ChatEntry] = field(default_factory=dict)  # by message_id, sent order
    started: bool = True  # a private chat counts as started once the user wrote to the bot
    blocked: bool = False
    migrated_to: int | None = None


class _Params:
    """Request parameters as Telegram reads them: strings from forms, typed values from JSON."""

    def __init__(self, raw: JsonObj) -> None:
        self.raw = raw

    def text(self, name: str) -> str | None:
        value = self.raw.get(name)
        return None if value is None else str(value)

    def integer(self, name: str) -> int | None:
        value = self.raw.get(name)
        if value in (None, ""):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _ApiError(400, f"Bad Request: invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        return self.raw.get(name) in (True, "true", "True", "1", 1)

    def obj(self, name: str) -> Any:
        value = self.raw.get(name)
        if isinstance(value, str) and name in _JSON_FIELDS:
            try:
                return json.loads(value)
            except ValueError:
                what = "reply keyboard markup" if name == "reply_markup" else name
                raise _ApiError(400, f"Bad Request: can't parse {what} JSON object") from None
        return value


async def _read_params(request: web.Request) -> _Params:
    raw: JsonObj = dict(request.query)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise _ApiError(400, "Bad Request: can't parse JSON request body") from None
        if isinstance(body, dict):
            raw.update(body)
    elif request.can_read_body:
        form = await request.post()
        raw.update({k: v for k, v in form.items() if isinstance(v, str)})
    return _Params(raw)
