"""A stand-in for the load balancer in front of several bot processes (DESIGN §9), on loopback.

It forwards each request round-robin to one of its backends and passes the answer back, and
can misbehave the ways a real one does: answer 502 when no backend is up, lose a backend's
answer after forwarding the request (a proxy timeout — Telegram then re-sends an update the
bot already has), or hand one request to every backend at once. Nothing is logged.
"""

from __future__ import annotations

import asyncio
import itertools
from types import TracebackType
from typing import Self

import aiohttp
from aiohttp import web

_HOP_BY_HOP = frozenset({"host", "content-length", "connection", "transfer-encoding"})


class FakeBalancer:
    """Round-robin HTTP proxy. Add backends (``http://host:port``) once they listen."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.url = ""
        self.backends: list[str] = []
        self.forwarded: list[tuple[str, int | None]] = []  # (backend, its status)
        self._turn = itertools.count()
        self._lose: list[int] = []  # statuses to answer instead of the backend's
        self._mirror = 0
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = self._runner.addresses[0][1]
        self.url = f"http://{self.host}:{self.port}"
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
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

    def lose_answers(self, times: int = 1, status: int = 504) -> None:
        """Forward the next ``times`` requests, but answer ``status`` instead of the backend."""
        self._lose.extend([status] * times)

    def mirror(self, times: int = 1) -> None:
        """Send each of the next ``times`` requests to every backend at the same moment."""
        self._mirror += times

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        if not self.backends:
            return web.Response(status=502, text="Bad Gateway")
        if self._mirror:
            self._mirror -= 1
            targets = list(self.backends)
        else:
            targets = [self.backends[next(self._turn) % len(self.backends)]]
        answers = await asyncio.gather(
            *(self._forward(t, request.method, request.path_qs, headers, body) for t in targets)
        )
        if self._lose:
            return web.Response(status=self._lose.pop(0), text="Gateway Timeout")
        answered = sorted((a for a in answers if a is not None), key=lambda a: a[0] // 100 != 2)
        if not answered:  # no backend answered at all
            return web.Response(status=502, text="Bad Gateway")
        status, payload, content_type = answered[0]  # a 2xx one if there is one
        return web.Response(status=status, body=payload, content_type=content_type)

    async def _forward(
        self, backend: str, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes, str] | None:
        if self._session is None:
            raise RuntimeError("the balancer is not started")
        try:
            async with self._session.request(
                method, backend + path, headers=headers, data=body
            ) as answer:
                payload = await answer.read()
                self.forwarded.append((backend, answer.status))
                return answer.status, payload, answer.content_type
        except aiohttp.ClientError:
            self.forwarded.append((backend, None))
            return None
