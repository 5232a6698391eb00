"""Small runtime helpers the services share: the clock and the KDF thread pool."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class KdfPool:
    """Runs Argon2 work in threads, at most `concurrency` at a time, the rest queued in order.

    Argon2id at 64 MiB takes a noticeable fraction of a second; on the event loop it would
    freeze every other chat. The semaphore bounds memory use under a burst of receipts. The bot
    and the admin API each get a pool of their own, so anonymous login attempts can never
    queue in front of a reporter's receipt.
    """

    def __init__(self, concurrency: int = 2) -> None:
        self.concurrency = concurrency
        self._semaphore = asyncio.Semaphore(concurrency)
        self._waiting = 0

    @property
    def waiting(self) -> int:
        """Jobs queued behind the ones running."""
        return self._waiting

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        self._waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self._waiting -= 1
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        finally:
            self._semaphore.release()
