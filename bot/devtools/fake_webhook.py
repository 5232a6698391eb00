"""Webhooks in the fake Bot API: setWebhook & co., and delivering updates by HTTP POST.

As on Telegram, while a webhook is set each pending update is POSTed as JSON to its URL,
with the secret token in ``X-Telegram-Bot-Api-Secret-Token``; an answer other than 2xx (or
no answer) is retried, with growing pauses, until it succeeds or the webhook is removed, and
``getWebhookInfo`` shows the last error. Updates of a type outside ``allowed_updates`` are
dropped. Differences, on purpose: updates go out one at a time in order (Telegram may use up
to ``max_connections`` in parallel), retries come within a second rather than minutes, plain
``http://`` is accepted for loopback hosts (tests have no certificate), any port is allowed,
and a method in the answer's body is not executed.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import aiohttp

from bot.devtools.fake_types import JsonObj, _ApiError, _Params

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
# Telegram's default when allowed_updates is empty or never given.
_NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
RETRY_DELAYS = (0.05, 0.1, 0.2, 0.5, 1.0)


@dataclass(frozen=True)
class WebhookDelivery:
    """One POST of an update to the webhook and how it was answered (None: no answer)."""

    update_id: int
    status: int | None
    with_secret: bool


class WebhookMethods:
    """setWebhook, deleteWebhook, getWebhookInfo and the delivery loop of FakeBotAPI."""

    if TYPE_CHECKING:  # provided by FakeBotAPI
        _updates: list[JsonObj]
        _redeliver: list[JsonObj]
        _closing: bool
        _updates_event: asyncio.Event

    def _init_webhook(self) -> None:
        self.webhook_url = ""
        self.webhook_secret = ""
        self.webhook_allowed_updates: list[str] = []
        self.webhook_max_connections = 40
        self.webhook_deliveries: list[WebhookDelivery] = []
        self._webhook_error: tuple[int, str] | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._delivered = asyncio.Event()  # replaced after each set(), like _updates_event

    async def _stop_webhook(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def pending_update_count(self) -> int:
        """Updates not yet confirmed (by getUpdates' offset or a 2xx webhook answer)."""
        return len(self._updates) + len(self._redeliver)

    async def wait_for_deliveries(self, count: int, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the webhook was POSTed to ``count`` times in all (answered or not)."""
        async with asyncio.timeout(timeout):
            while len(self.webhook_deliveries) < count:
                await self._delivered.wait()

    # ------------------------------------------------------------------ Bot API methods

    async def _m_setwebhook(self, p: _Params) -> bool:
        url = p.text("url") or ""
        if not url:
            return await self._m_deletewebhook(p)
        parts = urlsplit(url)
        loopback_http = parts.scheme == "http" and parts.hostname in _LOOPBACK
        if parts.scheme != "https" and not loopback_http:
            raise _ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        secret = p.text("secret_token") or ""
        if secret and not _SECRET.fullmatch(secret):
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        max_connections = p.integer("max_connections") or 40
        if not 1 <= max_connections <= 100:
            raise _ApiError(400, "Bad Request: bad webhook: max_connections must be 1-100")
        allowed = p.obj("allowed_updates")
        if allowed is not None:  # not given: the previous setting stays
            if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
                raise _ApiError(400, "Bad Request: can't parse allowed updates")
            self.webhook_allowed_updates = allowed
        if p.flag("drop_pending_updates"):
            self._updates.clear()
            self._redeliver.clear()
        self.webhook_url, self.webhook_secret = url, secret
        self.webhook_max_connections = max_connections
        self._webhook_error = None
        await self._stop_webhook()
        self._webhook_task = asyncio.create_task(self._deliver(), name="fake-webhook")
        return True

    async def _m_deletewebhook(self, p: _Params) -> bool:
        self.webhook_url = self.webhook_secret = ""
        await self._stop_webhook()
        if p.flag("drop_pending_updates"):
            self._updates.clear()
            self._redeliver.clear()
        return True

    async def _m_getwebhookinfo(self, p: _Params) -> JsonObj:
        info: JsonObj = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": self.pending_update_count(),
        }
        if self.webhook_url:
            info["max_connections"] = self.webhook_max_connections
            if self.webhook_allowed_updates:
                info["allowed_updates"] = self.webhook_allowed_updates
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    # ------------------------------------------------------------------ delivery

    def _next_for_webhook(self) -> JsonObj | None:
        """The next update to POST; drops those of a type the webhook did not ask for."""
        allowed = set(self.webhook_allowed_updates)
        while True:
            queue = self._redeliver or self._updates
            if not queue:
                return None
            update = queue[0]
            kind = next(k for k in update if k != "update_id")
            if (kind in allowed) if allowed else (kind not in _NOT_BY_DEFAULT):
                return update
            queue.pop(0)

    def _confirm(self, update: JsonObj) -> None:
        for queue in (self._redeliver, self._updates):
            if queue and queue[0] is update:
                queue.pop(0)
                return

    async def _deliver(self) -> None:
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            failures = 0
            while self.webhook_url and not self._closing:
                update = self._next_for_webhook()
                if update is None:
                    await self._updates_event.wait()
                    continue
                status = await self._post(session, update)
                if status is not None and 200 <= status < 300:
                    self._confirm(update)
                    failures = 0
                    continue
                await asyncio.sleep(RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)])
                failures += 1

    async def _post(self, session: aiohttp.ClientSession, update: JsonObj) -> int | None:
        headers = {SECRET_HEADER: self.webhook_secret} if self.webhook_secret else {}
        status: int | None = None
        error = ""
        try:
            async with session.post(self.webhook_url, json=update, headers=headers) as answer:
                await answer.read()
                status = answer.status
                if not 200 <= status < 300:
                    error = f"Wrong response from the webhook: {status} {answer.reason}"
        except aiohttp.ClientConnectionError:
            error = "Connection refused"
        except (aiohttp.ClientError, TimeoutError):
            error = "Read timeout expired"
        self.webhook_deliveries.append(
            WebhookDelivery(update["update_id"], status, bool(self.webhook_secret))
        )
        self._delivered.set()
        self._delivered = asyncio.Event()
        if error:
            self._webhook_error = (int(time.time()), error)
        return status
