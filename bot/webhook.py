"""The webhook runner: Telegram POSTs each update to us instead of us polling for it.

A request is answered within milliseconds, before the update is processed: Telegram waits
for the answer before it sends that connection's next update, and retries (re-sends the
same update) when an answer is slow or not 2xx. So the server only

1. checks the secret token Telegram echoes in `X-Telegram-Bot-Api-Secret-Token` — anything
   without it is refused with 401 before its body is even read;
2. claims the update id in the ledger (shared through Redis by every bot process behind the
   load balancer), so a retry, on this process or another, is acknowledged and dropped;
3. answers 200 and processes the update in the background, one at a time per chat like
   polling does.

When it cannot take an update safely — the ledger is unreachable, too many updates are in
flight, the process is shutting down — it answers 503 without claiming it, and Telegram
delivers it again later (to this process or another one).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import TYPE_CHECKING

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from pydantic import ValidationError

from bot.telegram import CLAIMED

if TYPE_CHECKING:
    from aiohttp.web_request import BaseRequest
    from aiohttp.web_response import StreamResponse

    from bot.updates import UpdateLedger

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


class PathOnlyAccessLog(AbstractAccessLogger):
    """Method, path, status and time — never the query, the peer, headers or the body.

    The webhook path holds no secret (settings refuse one), and an update's body names the
    reporter, so this is all an operator gets.
    """

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info("%s %s %d %.3fs", request.method, request.path, response.status, time)


class WebhookServer:
    """Serves one bot's webhook on `host:port` at `path`; see the module docstring."""

    def __init__(
        self,
        bot: Bot,
        dispatcher: Dispatcher,
        ledger: UpdateLedger,
        *,
        secret: str,
        path: str,
        host: str,
        port: int,
        max_in_flight: int = 200,
        drain_seconds: float = 10.0,
    ) -> None:
        self._bot, self._dispatcher, self._ledger = bot, dispatcher, ledger
        self._secret = secret.encode()
        self._path, self._host, self._port = path, host, port
        self._max_in_flight = max_in_flight
        self._drain_seconds = drain_seconds
        self._in_flight: set[asyncio.Task[None]] = set()
        self._accepting = False
        self._runner: web.AppRunner | None = None
        self.address = ""

    async def start(self) -> str:
        """Bind and start accepting updates; returns the bound `http://host:port`."""
        app = web.Application()
        app.router.add_post(self._path, self._handle)
        self._runner = web.AppRunner(
            app,
            access_log=logging.getLogger(f"{__name__}.access"),
            access_log_class=PathOnlyAccessLog,
            handle_signals=False,
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        host, port = self._runner.addresses[0][:2]
        self.address = f"http://{host}:{port}"
        await self._dispatcher.emit_startup(bot=self._bot, **self._dispatcher.workflow_data)
        self._accepting = True
        return self.address

    async def register(self, url: str, *, max_connections: int = 40) -> None:
        """Point Telegram at `url` with our secret, for the update types the handlers use.

        Pending updates are kept (`drop_pending_updates=False`): they are reports in flight.
        """
        await self._bot.set_webhook(
            url,
            secret_token=self._secret.decode(),
            allowed_updates=self._dispatcher.resolve_used_update_types(),
            max_connections=max_connections,
            drop_pending_updates=False,
        )

    async def idle(self) -> None:
        """Wait until every update accepted so far has been processed."""
        while self._in_flight:
            await asyncio.wait(set(self._in_flight))

    async def stop(self) -> None:
        """Refuse new updates (Telegram retries them), let accepted ones finish, then close.

        The webhook stays registered with Telegram: other processes behind the same URL keep
        serving it, and a lone process finds its updates waiting when it comes back.
        """
        self._accepting = False
        if self._in_flight:
            _, late = await asyncio.wait(set(self._in_flight), timeout=self._drain_seconds)
            for task in late:
                task.cancel()
            if late:
                log.warning("webhook: %d update(s) cut off at shutdown", len(late))
                await asyncio.wait(late)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            await self._dispatcher.emit_shutdown(bot=self._bot, **self._dispatcher.workflow_data)

    async def _handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, self._secret):
            log.warning("webhook: request without the right secret token refused")
            return web.Response(status=401, text="Unauthorized")
        if not self._accepting or len(self._in_flight) >= self._max_in_flight:
            return web.Response(status=503, text="Busy, retry later")
        try:
            update = Update.model_validate(await request.json(), context={"bot": self._bot})
        except (ValueError, ValidationError):
            # The reason is not logged: a validation message quotes the update it read.
            log.warning("webhook: malformed update refused")
            return web.Response(status=400, text="Bad Request")
        try:
            first = await self._ledger.claim(update.update_id)
        except Exception as exc:  # Redis down: not claimed, so Telegram's retry is processed
            log.error("webhook: update ledger unavailable: %s", type(exc).__name__)
            return web.Response(status=503, text="Busy, retry later")
        if not first:
            log.info("duplicate update dropped")
            return web.json_response({})
        task = asyncio.create_task(self._process(update), name="webhook-update")
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        return web.json_response({})

    async def _process(self, update: Update) -> None:
        try:
            result = await self._dispatcher.feed_update(self._bot, update, **{CLAIMED: True})
            if isinstance(result, TelegramMethod):  # a handler that returns its answer
                await self._dispatcher.silent_call_request(self._bot, result)
        except Exception as exc:  # the error router answered the reporter if it could
            log.error("webhook: update failed: %s", type(exc).__name__)
