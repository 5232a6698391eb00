"""Files on the fake Bot API: users upload bytes, the bot calls getFile and downloads them.

As on Telegram, ``getFile`` refuses files over 20 MB ("file is too big") and the download URL
is ``/file/bot<token>/<file_path>``. The bytes stay in this process's memory.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass

from aiohttp import web

from bot.devtools.fake_types import JsonObj, _ApiError, _Params

BOT_DOWNLOAD_LIMIT = 20 * 1024 * 1024


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    path: str
    content: bytes


class FileMethods:
    """getFile and the download route, mixed into FakeBotAPI."""

    token: str
    _files: dict[str, StoredFile]
    _file_counter: itertools.count[int]

    def add_file(self, content: bytes, extension: str) -> StoredFile:
        """Store an uploaded file; its id goes into the message the user sends."""
        number = next(self._file_counter)
        stored = StoredFile(
            file_id=f"F{number}-{secrets.token_hex(8)}",
            file_unique_id=f"U{number}",
            path=f"documents/file_{number}.{extension}",
            content=content,
        )
        self._files[stored.file_id] = stored
        return stored

    async def _m_getfile(self, p: _Params) -> JsonObj:
        stored = self._files.get(p.text("file_id") or "")
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if len(stored.content) > BOT_DOWNLOAD_LIMIT:
            raise _ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.path,
        }

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            raise web.HTTPUnauthorized()
        path = request.match_info["path"]
        stored = next((f for f in self._files.values() if f.path == path), None)
        if stored is None or len(stored.content) > BOT_DOWNLOAD_LIMIT:
            raise web.HTTPNotFound()
        return web.Response(body=stored.content, content_type="application/octet-stream")
