"""The notifier worker: drains the outboxes into Telegram chats, within Telegram's limits.

One coroutine sends, one message part at a time, and settles each row in its own transaction
before it starts the next send; a second coroutine keeps a local backlog of claimed (leased)
rows filled. So a crash between Telegram accepting a message and the row being marked sent
re-sends at most that one row, once its lease runs out; every other row is sent exactly once.

Pacing (`bot.pacing.RateLimiter`): at most `per_second` sends overall and one per
`chat_interval` per chat. The next send goes to whichever chat may receive soonest, so a chat
with many pending messages never holds up the others. Telegram's answers:

- 429: the chat waits at least `retry_after`, then the same part is sent again (once);
- 5xx and network errors: capped exponential backoff, dead-lettered after `max_attempts`;
- 403 (blocked, chat deleted) or "chat not found": the channel drops the link and moves on;
- "group upgraded to supergroup": the channel may re-target the job to the new chat id;
- any other 400: dead-lettered (the text itself is refused; retrying would not help).

Several workers may run (PostgreSQL `SKIP LOCKED`); each then paces itself, so divide
`per_second` between them. Log lines name a case reference at most, never a chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
)

from bot.channels import Channel, Job
from bot.pacing import RateLimiter
from cases.runtime import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NotifierLimits:
    """Worker knobs; `bot.settings.Settings.notifier_limits` builds them from settings."""

    per_second: float = 30.0
    chat_interval: float = 1.0
    max_attempts: int = 8
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    batch: int = 50
    backlog: int = 500
    request_timeout: int = 10
    poll_seconds: float = 1.0

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failure: base·2^(n-1), capped."""
        return float(min(self.backoff_cap, self.backoff_base * 2 ** max(0, attempts - 1)))


@dataclass
class NotifierCounters:
    """What happened since start, for the benchmark and the logs. Counts only."""

    sent: int = 0
    rate_limited: int = 0
    failures: int = 0
    dead: int = 0
    unreachable: int = 0


class Notifier:
    """Claims due rows from its channels and sends them; settles each by Telegram's answer."""

    def __init__(
        self, bot: Bot, channels: Sequence[Channel], limits: NotifierLimits | None = None
    ) -> None:
        self._bot = bot
        self._channels = list(channels)
        self.limits = limits or NotifierLimits()
        self._limiter = RateLimiter(self.limits.per_second, self.limits.chat_interval)
        self._queues: dict[int, deque[Job]] = {}
        self._wake = asyncio.Event()
        self._hungry = asyncio.Event()
        self.counters = NotifierCounters()
        # A job is only sent while its lease has at least this much left.
        self._lease_margin = self.limits.request_timeout + 5.0

    # ------------------------------------------------------------------ running

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set; leased rows not sent yet are handed back on the way out."""
        refill = asyncio.create_task(self._refill(stop), name="notifier-refill")
        try:
            await self._send_loop(stop)
        finally:
            refill.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refill
            await self._release_all()

    async def drain(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109 - test/bench helper
        """Run until nothing is due or leased here (benchmarks and tests)."""
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(stop))
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                await asyncio.sleep(self.limits.poll_seconds)
                if not self._backlog() and not await self._claim_more():
                    return
            raise TimeoutError("the notifier did not drain in time")
        finally:
            stop.set()
            await task

    async def _refill(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                claimed = await self._claim_more()
            except Exception as exc:  # keep the worker alive; the rows stay leased and retry
                log.error("notifier claim failed: %s", type(exc).__name__)
                claimed = 0
            if claimed and self._backlog() < self.limits.backlog:
                continue
            self._hungry.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._hungry.wait(), timeout=self.limits.poll_seconds)

    async def _claim_more(self) -> int:
        """Top up the local backlog while fewer than a batch of chats can be served soon."""
        claimed = 0
        for channel in self._channels:
            if self._backlog() >= self.limits.backlog or self._ready_soon() >= self.limits.batch:
                break
            jobs = await channel.claim(self.limits.batch)
            for job in jobs:
                self._queues.setdefault(job.chat_id, deque()).append(job)
            claimed += len(jobs)
        if claimed:
            self._wake.set()
        return claimed

    def _backlog(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def _ready_soon(self) -> int:
        horizon = time.monotonic() + 1.0
        return sum(1 for c in self._queues if self._limiter.chat_ready(c) <= horizon)

    async def _send_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._release_expiring()
                job, at = self._next()
                if job is None or at > time.monotonic():
                    if job is None:
                        self._hungry.set()
                    wait = self.limits.poll_seconds if job is None else at - time.monotonic()
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, wait))
                    continue
                await self._attempt(job)
                if self._ready_soon() < self.limits.batch:
                    self._hungry.set()
            except Exception as exc:  # the database went away, say; keep going
                log.error("notifier pass failed: %s", type(exc).__name__)
                await asyncio.sleep(self.limits.poll_seconds)

    def _next(self) -> tuple[Job | None, float]:
        """The job that may be sent soonest (oldest first among equals), and when."""
        best: Job | None = None
        best_key = (float("inf"), 0)
        for chat_id, queue in self._queues.items():
            if not queue:
                continue
            key = (self._limiter.chat_ready(chat_id), queue[0].seq)
            if key < best_key:
                best, best_key = queue[0], key
        if best is None:
            return None, 0.0
        return best, max(best_key[0], self._limiter.global_ready())

    # ------------------------------------------------------------------ one send

    async def _attempt(self, job: Job) -> None:
        try:
            await self._bot.send_message(
                job.chat_id,
                job.parts[job.sent],
                parse_mode=None,  # plain text: user-supplied text cannot be misread as markup
                request_timeout=self.limits.request_timeout,
            )
        except TelegramRetryAfter as exc:
            # Nothing was sent; wait at least as long as Telegram asked, then send it again.
            self.counters.rate_limited += 1
            self._limiter.defer(job.chat_id, float(exc.retry_after))
        except TelegramMigrateToChat as exc:
            if await job.channel.migrated(job, exc.migrate_to_chat_id):
                self._retarget(job.chat_id, exc.migrate_to_chat_id)
            else:
                self._done(job)
        except TelegramForbiddenError:
            await self._unreachable(job)
        except TelegramBadRequest as exc:
            if "chat not found" in exc.message.lower():
                await self._unreachable(job)
            else:
                log.error("message refused by Telegram (%s %s)", job.channel.name, job.label)
                await self._dead(job)
        except TelegramAPIError as exc:  # 5xx, network errors, anything transient
            await self._failed(job, type(exc).__name__)
        else:
            self._limiter.sent(job.chat_id)
            self.counters.sent += 1
            job.sent += 1
            if job.sent < len(job.parts):
                await job.channel.part_sent(job)
            else:
                await job.channel.delivered(job)
                self._done(job)

    async def _failed(self, job: Job, error: str) -> None:
        self.counters.failures += 1
        attempts = await job.channel.failed(job, error)
        if attempts >= self.limits.max_attempts:
            log.error("message dead-lettered (%s %s)", job.channel.name, job.label)
            await self._dead(job)
            return
        self._limiter.defer(job.chat_id, self.limits.backoff(attempts))

    async def _dead(self, job: Job) -> None:
        self.counters.dead += 1
        await job.channel.dead(job)
        self._done(job)

    async def _unreachable(self, job: Job) -> None:
        self.counters.unreachable += 1
        await job.channel.unreachable(job)
        self._done(job)

    def _done(self, job: Job) -> None:
        queue = self._queues.get(job.chat_id)
        if queue and queue[0] is job:
            queue.popleft()
        if queue is not None and not queue:
            del self._queues[job.chat_id]

    def _retarget(self, old: int, new: int) -> None:
        moved = self._queues.pop(old, deque())
        for job in moved:
            job.chat_id = new
        self._queues.setdefault(new, deque()).extend(moved)

    # ------------------------------------------------------------------ leases

    async def _release_expiring(self) -> None:
        """Hand back rows whose lease is nearly over, due when their chat may receive again."""
        now = time.monotonic()
        for chat_id in list(self._queues):
            queue = self._queues[chat_id]
            if not queue or queue[0].lease_until - self._lease_margin > now:
                continue
            # The whole chat goes back together, so its messages keep their order.
            await self._give_back(list(queue), self._limiter.chat_ready(chat_id))
            del self._queues[chat_id]
        self._limiter.forget_idle()

    async def _release_all(self) -> None:
        jobs = [j for q in self._queues.values() for j in q]
        self._queues.clear()
        with contextlib.suppress(Exception):
            await self._give_back(jobs, 0.0)

    async def _give_back(self, jobs: list[Job], ready: float) -> None:
        at = utcnow() + dt.timedelta(seconds=max(0.0, ready - time.monotonic()))
        for channel in self._channels:
            mine = [j for j in jobs if j.channel is channel]
            if mine:
                await channel.release(mine, at)
